"""Bulk batches as jobs: start one, watch its progress, download its CSV.

The batch itself is `issue_bulk_contracts` (one transaction: every contract or none, one
audit row contract.bulk_issued), run in the background by `services.bulk_jobs`. The CSV
holds registration keys, which are secrets: each download is audited (bulk.downloaded).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session

from cssec.vendor_service import services
from cssec.vendor_service.api.admin.conventions import (
    IdempotencyKey,
    IdPath,
    Paging,
    documented,
    idempotent,
    not_found,
    scoped,
    vendor_of,
)
from cssec.vendor_service.api.admin.schemas import BulkIn, BulkJobOut, Page
from cssec.vendor_service.api_errors import BulkJobNotFinished
from cssec.vendor_service.models import BulkJob
from cssec.vendor_service.services._context import read_transaction, transaction
from cssec.vendor_service.services.bulk_jobs import (
    DONE,
    BulkJobRunner,
    BulkTerms,
    list_bulk_jobs,
    start_bulk_job,
)
from cssec.vendor_service.services.tokens import Principal

router = APIRouter(tags=["admin: bulk"])
PREFIX = "/api/v1/admin/bulk-batches"


def runner_of(request: Request) -> BulkJobRunner:
    runner: BulkJobRunner = request.app.state.bulk_jobs
    return runner


def job_out(runner: BulkJobRunner, job: BulkJob) -> BulkJobOut:
    progress = runner.progress(job.id)
    done = job.count if job.status == DONE else (progress[0] if progress else None)
    ids = (
        [job.first_contract_id, job.last_contract_id]
        if job.first_contract_id is not None and job.last_contract_id is not None
        else None
    )
    return BulkJobOut(
        id=job.id,
        status=job.status,
        count=job.count,
        done=done,
        terms=job.terms,
        created_at=job.created_at,
        created_by=job.created_by,
        finished_at=job.finished_at,
        sha256=job.sha256,
        contract_ids=ids,
        error=job.error,
        result_url=f"{PREFIX}/{job.id}/result" if job.status == DONE else None,
    )


def _job(session: Session, job_id: int) -> BulkJob:
    job = session.get(BulkJob, job_id)
    if job is None:
        raise not_found("一括発行", "bulk batch", f"#{job_id}")
    return job


@router.post(
    "/bulk-batches",
    status_code=202,
    response_model=BulkJobOut,
    summary="Start a bulk batch",
    description="N contracts for one customer (a distributor), all or none "
    "(`cssec vendor keys bulk`). Answers at once with the queued job; poll it, then "
    "download the CSV from result_url.",
    responses=documented(),
)
def start(
    body: BulkIn,
    request: Request,
    principal: Annotated[Principal, Depends(scoped("bulk:write"))],
    idempotency_key: IdempotencyKey = None,
) -> Response:
    runner = runner_of(request)

    def work() -> tuple[int, BulkJobOut, dict[str, str]]:
        terms = BulkTerms(
            count=body.count,
            seats=body.seats,
            months=body.months,
            start=body.start,
            with_dcs=body.with_dcs,
            customer=body.customer,
        )
        with vendor_of(request).session() as session:
            job = start_bulk_job(session, terms, actor=principal.actor)
            out = job_out(runner, job)
        runner.submit(job.id)
        return 202, out, {"Location": f"{PREFIX}/{job.id}"}

    return idempotent(request, principal, idempotency_key, body, work)


@router.get(
    "/bulk-batches",
    response_model=Page[BulkJobOut],
    summary="List bulk batches",
    responses=documented(),
)
def list_jobs(
    request: Request,
    _principal: Annotated[Principal, Depends(scoped("bulk:write"))],
    paging: Paging,
) -> Page[BulkJobOut]:
    after = paging.after_id() if paging.cursor else None
    runner = runner_of(request)
    with vendor_of(request).session() as session, read_transaction(session):
        rows = list_bulk_jobs(session, after_id=after, limit=paging.limit + 1)
        return Page[BulkJobOut].of(rows, paging, lambda job: job_out(runner, job))


@router.get(
    "/bulk-batches/{job_id}",
    response_model=BulkJobOut,
    summary="A bulk batch's progress",
    responses=documented(),
)
def get_job(
    job_id: IdPath,
    request: Request,
    _principal: Annotated[Principal, Depends(scoped("bulk:write"))],
) -> BulkJobOut:
    with vendor_of(request).session() as session, read_transaction(session):
        return job_out(runner_of(request), _job(session, job_id))


@router.get(
    "/bulk-batches/{job_id}/result",
    response_class=FileResponse,
    summary="Download a bulk batch's CSV",
    description="registration_key, activation_code_cs[, activation_code_dcs], expires_on, "
    "contract_id; one line a contract. Audited as bulk.downloaded.",
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "The CSV."},
        **documented(409),
    },
)
def result(
    job_id: IdPath,
    request: Request,
    principal: Annotated[Principal, Depends(scoped("bulk:write", audit_read=False))],
) -> Response:
    runner = runner_of(request)
    with vendor_of(request).session() as session:
        with read_transaction(session):
            job = _job(session, job_id)
        path = runner.result_path(job)
        if job.status != DONE or path is None or not path.exists():
            raise BulkJobNotFinished(job_id=job_id, job_status=job.status)
        with transaction(session):
            services.record_audit(
                session,
                actor=principal.actor,
                action="bulk.downloaded",
                target=f"bulk:{job_id}",
                before=None,
                after={"file": job.file_name, "sha256": job.sha256},
            )
    return FileResponse(path, media_type="text/csv", filename=f"cssec-batch-{job_id}.csv")
