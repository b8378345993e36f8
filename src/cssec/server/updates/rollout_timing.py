"""The administrator's place in the vendor's staged rollouts: "early", "standard" (the
default) or "late" (`core.rollout.effective_bucket`), kept in `<data_dir>/rollout-timing`.

Changed by `cssec server components rollout-timing` and on the Web manager's
アップデート › コンポーネント page, both through `change_rollout_timing`, which writes a
`components.rollout_timing_changed` event. Both show the labels (早期 / 標準 / 遅め).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from cssec.core.errors import CssecError
from cssec.core.rollout import TIMINGS
from cssec.core.signing import write_secret_file
from cssec.server.logs.events import Level, add_event

FILE = "rollout-timing"
DEFAULT = "standard"
EVENT_KIND = "components.rollout_timing_changed"
LABELS: dict[str, dict[str, str]] = {
    "early": {"ja": "早期", "en": "Early"},
    "standard": {"ja": "標準", "en": "Standard"},
    "late": {"ja": "遅め", "en": "Late"},
}


class InvalidRolloutTiming(CssecError):
    code = "invalid_rollout_timing"
    message_ja = (
        "配信タイミングは早期 (early)、標準 (standard)、遅め (late)のいずれかを選んでください。"
    )
    message_en = "Choose early, standard or late as the rollout timing."


def rollout_timing(data_root: Path) -> str:
    try:
        value = (data_root / FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return DEFAULT
    return value if value in TIMINGS else DEFAULT


def set_rollout_timing(data_root: Path, timing: str) -> None:
    """The file alone, without an event (tests and setup); people use `change_rollout_timing`."""
    if timing not in TIMINGS:
        raise ValueError(f"timing must be one of {', '.join(TIMINGS)}")
    write_secret_file(data_root / FILE, (timing + "\n").encode("utf-8"))  # 0600, atomic


@dataclass(frozen=True)
class TimingChange:
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def change_rollout_timing(
    session: Session, data_root: Path, timing: str, *, actor: str, now: datetime
) -> TimingChange:
    """Set the timing; an event when it changed (written in the same transaction as the
    file, so a failed write leaves no event). InvalidRolloutTiming for anything else."""
    value = timing.strip().lower()
    if value not in TIMINGS:
        raise InvalidRolloutTiming(timing=timing[:32])
    before = rollout_timing(data_root)
    change = TimingChange(before, value)
    if not change.changed:
        return change
    with session.begin():
        old, new = LABELS[before], LABELS[value]
        add_event(
            session, at=now, level=Level.INFO, kind=EVENT_KIND,
            message={
                "ja": f"段階的配信のタイミングを{old['ja']}から{new['ja']}に変更しました"
                f" ({actor})。",
                "en": f"Staged rollout timing changed from {old['en'].lower()} to "
                f"{new['en'].lower()} ({actor}).",
            },
            details={"before": before, "after": value, "actor": actor},
        )  # fmt: skip
        session.flush()
        set_rollout_timing(data_root, value)
    return change
