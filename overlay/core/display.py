"""Text for durations and counts where Python draws it: /history, the CLI, export.

The live pages draw their own with overlay.js from the same snapshot; no page needs both.
"""

from __future__ import annotations

import math


def clock(total: int) -> str:
    """m:ss under an hour, h:mm:ss from then on."""
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def hms(seconds: float | None) -> str:
    """Always h:mm:ss, signed; "-" for nothing (tables line up)."""
    if seconds is None:
        return "-"
    sign = "-" if seconds < 0 else ""
    s = int(abs(seconds))
    return f"{sign}{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def delta(elapsed_s: float, target_s: float) -> str:
    d = math.floor(elapsed_s) - math.floor(target_s)
    return ("+" if d > 0 else "\u2212" if d < 0 else "") + clock(abs(d))


def countdown(left_s: float) -> str:
    minutes = math.ceil(left_s / 60) if left_s > 0 else math.floor(-left_s / 60)
    d, rest = divmod(minutes, 1440)
    h, m = divmod(rest, 60)
    if d:
        return f"{d}d {h:02d}h {m:02d}m"
    return f"{h}h {m:02d}m" if h else f"{m}m"


def days_text(left_s: float) -> str:
    word = "left" if left_s > 0 else "past"
    days = math.floor(abs(left_s) / 86400)
    if days:
        return f"{days} day{'' if days == 1 else 's'} {word}"
    return f"{countdown(left_s)} {word}"


def plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
