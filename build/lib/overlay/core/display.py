"""Clocks where Python draws them: /history, the CLI, export. Figures only: the words around
them come from the catalogs (overlay/i18n/texts.py).

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
