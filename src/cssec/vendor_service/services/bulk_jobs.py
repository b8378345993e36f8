"""Bulk batches as background jobs (the admin API's `/bulk-batches`).

`start_bulk_job` checks the terms as `issue_bulk_contracts` will and records a queued job;
`BulkJobRunner.submit` runs it on a thread of the worker that accepted it, through
`issue_bulk_contracts` (one transaction, one audit row, the CSV appearing only after the
commit, as from the CLI), and records the outcome. Progress (contracts done of the total)
is held in that worker's memory and shown by it; other workers show the job's recorded
status until it ends. Limit, stated: a worker that stops mid-batch leaves its job
"running" with nothing issued (the batch's transaction rolls back, no CSV appears); start
the batch again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from cssec.core.errors import CssecError
from cssec.vendor_service.models import BulkJob
from cssec.vendor_service.services._context import now_utc, transaction
from cssec.vendor_service.services.bulk import _check_count, issue_bulk_contracts
from cssec.vendor_service.services.contracts import _check_terms

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


@dataclass(frozen=True)
class BulkTerms:
    count: int
    seats: int
    months: int = 12
    start: date | None = None
    with_dcs: bool = False
    customer: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "seats": self.seats,
            "months": self.months,
            "start": self.start.isoformat() if self.start else None,
            "with_dcs": self.with_dcs,
            "customer": self.customer,
        }


def start_bulk_job(session: Session, terms: BulkTerms, *, actor: str) -> BulkJob:
    """A queued job, after the checks `issue_bulk_contracts` makes (so a refusal comes now,
    not later from the background)."""
    _check_count(terms.count)
    label = terms.customer.strip() if terms.customer is not None else "bulk"
    start = terms.start if terms.start is not None else now_utc(session).date()
    _check_terms(label or " ", terms.seats, terms.months, start)
    with transaction(session):
        job = BulkJob(
            status=QUEUED,
            count=terms.count,
            terms=terms.as_json(),
            created_at=now_utc(session),
            created_by=actor,
        )
        session.add(job)
        session.flush()
    return job


class BulkJobRunner:
    """The jobs running in this worker, their progress, and a way to wait for one."""

    def __init__(self, maker: sessionmaker[Session], directory: Path) -> None:
        self._maker = maker
        self.directory = directory
        self._progress: dict[int, tuple[int, int]] = {}
        self._threads: dict[int, threading.Thread] = {}
        self._lock = threading.Lock()

    def progress(self, job_id: int) -> tuple[int, int] | None:
        with self._lock:
            return self._progress.get(job_id)

    def submit(self, job_id: int) -> None:
        thread = threading.Thread(
            target=self._run, args=(job_id,), name=f"cssec-bulk-job-{job_id}", daemon=True
        )
        with self._lock:
            self._threads[job_id] = thread
        thread.start()

    def wait(self, job_id: int, timeout: float | None = None) -> bool:
        """True once the job's thread has ended (tests, and shutdown)."""
        with self._lock:
            thread = self._threads.get(job_id)
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def close(self, timeout: float = 60) -> None:
        """Wait for the batches running here (a batch cut off rolls back, issuing nothing)."""
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout)

    def result_path(self, job: BulkJob) -> Path | None:
        return self.directory / job.file_name if job.file_name else None

    def _note(self, job_id: int, done: int, total: int) -> None:
        with self._lock:
            self._progress[job_id] = (done, total)

    def _run(self, job_id: int) -> None:
        with self._maker() as session:
            with transaction(session):
                job = session.get(BulkJob, job_id)
                if job is None or job.status != QUEUED:
                    return
                job.status = RUNNING
                terms, actor = dict(job.terms), job.created_by
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            name = f"batch-{job_id}.csv"
            outcome: dict[str, Any]
            try:
                issued = issue_bulk_contracts(
                    session,
                    count=int(terms["count"]),
                    seats=int(terms["seats"]),
                    months=int(terms["months"]),
                    start=date.fromisoformat(terms["start"]) if terms.get("start") else None,
                    with_dcs=bool(terms["with_dcs"]),
                    customer=terms.get("customer"),
                    out=self.directory / name,
                    actor=actor,
                    progress=lambda done, total: self._note(job_id, done, total),
                )
            except CssecError as exc:
                outcome = {"status": FAILED, "error": _error(exc)}
            except Exception as exc:  # recorded on the job, logged with its trace
                log.exception("bulk job %s failed", job_id)
                outcome = {
                    "status": FAILED,
                    "error": {"code": "internal_error", "message_en": type(exc).__name__},
                }
            else:
                outcome = {
                    "status": DONE,
                    "file_name": name,
                    "sha256": issued.sha256,
                    "first_contract_id": issued.contract_ids[0],
                    "last_contract_id": issued.contract_ids[-1],
                }
            with transaction(session):
                session.execute(
                    update(BulkJob)
                    .where(BulkJob.id == job_id)
                    .values(finished_at=now_utc(session), **outcome)
                )


def _error(exc: CssecError) -> dict[str, Any]:
    return {"code": exc.code, "message_ja": exc.message("ja"), "message_en": exc.message("en")}


def list_bulk_jobs(session: Session, *, after_id: int | None, limit: int) -> list[BulkJob]:
    """Newest first; `after_id`: those older than that job (the cursor)."""
    query = select(BulkJob).order_by(BulkJob.id.desc()).limit(limit)
    if after_id is not None:
        query = query.where(BulkJob.id < after_id)
    return list(session.scalars(query))
