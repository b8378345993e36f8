"""The administrator's place in the vendor's staged rollouts: "early", "standard" (the
default) or "late" (`core.rollout.effective_bucket`), kept in `<data_dir>/rollout-timing`
(`cssec server components rollout-timing`)."""

from __future__ import annotations

from pathlib import Path

from cssec.core.rollout import TIMINGS

FILE = "rollout-timing"


def rollout_timing(data_root: Path) -> str:
    try:
        value = (data_root / FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return "standard"
    return value if value in TIMINGS else "standard"


def set_rollout_timing(data_root: Path, timing: str) -> None:
    if timing not in TIMINGS:
        raise ValueError(f"timing must be one of {', '.join(TIMINGS)}")
    (data_root / FILE).write_text(timing + "\n", encoding="utf-8")
