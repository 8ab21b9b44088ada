"""Deadline pacing: units left, days left, the pace needed and whether the pace so far meets it. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .settings import Deadline, Goal

DAY = timedelta(days=1)


def pacing(
    goal: Goal | None, deadline: Deadline | None, done: int, started: datetime | None, now: datetime
) -> dict[str, Any] | None:
    """Figures for the deadline overlay and /history; None without both a goal and a deadline.

    Numbers only: each door words them in its language (overlay/i18n/texts.py, overlay.js).
    The pace needed is one unit every `needed_every_days` days, or `needed_per_day` a day.
    """
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
    out.update(needed_every_days=None, needed_per_day=None, so_far_every_days=None)
    if left == 0:
        out["on_track"] = True
        return out
    if days_left <= 0:
        out["on_track"] = False
        return out
    per_unit = days_left / left
    if per_unit >= 1:
        out["needed_every_days"] = round(per_unit, 1)
    else:
        out["needed_per_day"] = round(left / days_left, 1)
    out["on_track"] = None if pace is None else done + pace * days_left >= goal.units
    if pace:
        out["so_far_every_days"] = round(1 / pace, 1)
    return out
