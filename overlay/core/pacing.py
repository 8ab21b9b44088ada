"""Deadline pacing: units left, days left, the pace needed and whether the pace so far meets it. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .settings import Deadline, Goal

DAY = timedelta(days=1)


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _count(n: int, goal: Goal) -> str:
    return f"{n} {goal.unit if n == 1 else goal.unit_plural}"


def pacing(
    goal: Goal | None, deadline: Deadline | None, done: int, started: datetime | None, now: datetime
) -> dict[str, Any] | None:
    """Figures for the deadline overlay and /history; None without both a goal and a deadline."""
    if goal is None or deadline is None:
        return None
    left = max(0, goal.units - done)
    days_left = (deadline.at - now) / DAY
    since = goal.since or started
    days_so_far = max((now - since) / DAY, 0.0) if since else 0.0
    pace = done / days_so_far if days_so_far >= 1 else None  # a day at least, or it is noise
    out: dict[str, Any] = {
        "units": goal.units, "done": done, "left": left, "unit": goal.unit,
        "unit_plural": goal.unit_plural, "days_left": round(days_left, 2),
        "passed": days_left <= 0, "pace_per_day": None if pace is None else round(pace, 3),
    }
    if left == 0:
        out.update(on_track=True, needed_text="goal reached", summary=f"all {_count(goal.units, goal)} done")
        return out
    if days_left <= 0:
        out.update(
            on_track=False, needed_text=None,
            summary=f"deadline passed {_num(-days_left)} days ago; {done} of {_count(goal.units, goal)} done",
        )
        return out
    per_unit = days_left / left
    if per_unit >= 1:
        needed = f"1 {goal.unit} every {_num(per_unit)} days"
    else:
        rate = _num(left / days_left)
        needed = f"{rate} {goal.unit if rate == '1' else goal.unit_plural} a day"
    on_track = None if pace is None else done + pace * days_left >= goal.units
    if pace is None:
        pace_text = "pace: too early to tell"
    elif pace == 0:
        pace_text = f"no {goal.unit_plural} done yet"
    else:
        pace_text = f"so far 1 {goal.unit} every {_num(1 / pace)} days"
    out.update(
        on_track=on_track, needed_text=needed, pace_text=pace_text,
        summary=f"{_count(left, goal)} left in {_num(days_left)} days: {needed}",
    )
    return out
