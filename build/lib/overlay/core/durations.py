"""Durations as people write them: `7d`, `1h30m`, `25m`, `90s`, `400ms`. Read by config.yaml and by the
commands that take one (extend, shorten)."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m(?!s))?\s*(?:(\d+)s)?\s*(?:(\d+)ms)?$")


def parse_duration(text: str) -> timedelta | None:
    """'7d', '1h30m', '25m', '90s', '400ms' -> timedelta; None when malformed."""
    match = _DURATION.match(text.strip())
    if not match or not any(match.groups()):
        return None
    try:
        d, h, m, s, ms = (int(g) if g else 0 for g in match.groups())
        return timedelta(days=d, hours=h, minutes=m, seconds=s, milliseconds=ms)
    except (ValueError, OverflowError):  # more digits than int() reads, or past timedelta.max
        return None


def format_duration(d: timedelta) -> str:
    """The shortest text parse_duration reads back as `d` (to the millisecond): 5m, 1h30m, 90s."""
    ms = d // timedelta(milliseconds=1)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    parts = [f"{n}{unit}" for n, unit in ((h, "h"), (m, "m"), (s, "s"), (ms, "ms")) if n]
    return "".join(parts) or "0s"
