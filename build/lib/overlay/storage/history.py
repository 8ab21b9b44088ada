"""History read from the SQLite file: sessions, failures per local day, streaks, step times."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from ..core import session as core
from ..core.pacing import pacing
from ..core.settings import Config
from ..core.views import iso, seconds
from .schema import APPLICATION_ID
from .store import StorageError, session_from_dict

CHART_DAYS = 56  # eight weeks
RECENT = 10


def local(at: datetime, tz: tzinfo | None) -> datetime:
    """In the configured zone, or the machine's own (with its DST rules) when none is set."""
    return at.astimezone(tz) if tz is not None else at.astimezone()


def open_readonly(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise StorageError(f"{path}: no such database yet (run the service and start a session first)")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
    except sqlite3.Error as exc:
        raise StorageError(f"{path}: cannot read it as a study-overlay database ({exc})") from None
    if app_id != APPLICATION_ID:
        db.close()
        raise StorageError(f"{path}: is not a study-overlay database")
    return db


_ROWS = (
    "SELECT number, started_at, ended_at, outcome, data, "
    "(SELECT count(*) FROM failures f WHERE f.session = s.number) FROM sessions s"
)


def _summary(row: tuple[Any, ...], config: Config, now: datetime) -> dict[str, Any]:
    number, started_at, ended_at, outcome, data, failures = row
    s = session_from_dict(json.loads(data))
    if outcome == "reset" and ended_at:
        now = datetime.fromisoformat(ended_at)  # a reset session's clock stopped at the reset
    steps = []
    passed_over = core.skipped(s)
    for i in range(len(s.step_times)):
        cfg = config.steps[i] if i < len(config.steps) else None
        steps.append({
            "index": i,
            "id": cfg.id if cfg else f"step-{i + 1}",
            "title": cfg.title if cfg else f"Step {i + 1}",
            "target_s": seconds(cfg.target) if cfg else None,
            "elapsed_s": seconds(core.step_elapsed(s, now, i)),
            "break_s": seconds(core.break_elapsed(s, now, i)),  # kept apart from the step's time
            "skipped": i in passed_over,
        })
    return {
        "number": number,
        "started_at": started_at and iso(datetime.fromisoformat(started_at)),
        "ended_at": ended_at and iso(datetime.fromisoformat(ended_at)),
        "outcome": outcome,
        "elapsed_s": seconds(core.session_elapsed(s, now)),
        "break_s": sum(st["break_s"] for st in steps),
        "failures": failures,
        "pauses": s.pauses,
        "steps": steps,
    }


def sessions(db: sqlite3.Connection, config: Config, now: datetime) -> list[dict[str, Any]]:
    rows = db.execute(f"{_ROWS} ORDER BY number DESC").fetchall()
    return [_summary(row, config, now) for row in rows]


def session_detail(
    db: sqlite3.Connection, config: Config, number: int, now: datetime
) -> dict[str, Any] | None:
    row = db.execute(f"{_ROWS} WHERE number = ?", (number,)).fetchone()
    if row is None:
        return None
    out = _summary(row, config, now)
    titles = {st.id: st.title for st in config.steps}
    out["failure_log"] = [
        {"seq": seq, "at": iso(datetime.fromisoformat(at)), "step_id": step_id,
         "step_title": titles.get(step_id, step_id), "note": note}
        for seq, at, step_id, note in db.execute(
            "SELECT seq, at, step_id, note FROM failures WHERE session = ? ORDER BY seq", (number,)
        )
    ]
    return out


def read_session(path: Path, config: Config, number: int, now: datetime) -> dict[str, Any] | None:
    """One session with its failure log, read on its own connection (a worker thread's)."""
    db = open_readonly(path)
    try:
        return session_detail(db, config, number, now)
    finally:
        db.close()


def failures_per_day(
    db: sqlite3.Connection, tz: tzinfo | None, today: date, days: int = CHART_DAYS
) -> list[dict[str, Any]]:
    first = today - timedelta(days=days - 1)
    # A day's edges in UTC move with the zone, so fetch a margin and count in local time.
    since = datetime.combine(first - timedelta(days=2), datetime.min.time()).isoformat()
    counts = {first + timedelta(days=i): 0 for i in range(days)}
    for (at,) in db.execute("SELECT at FROM failures WHERE at >= ?", (since,)):
        day = local(datetime.fromisoformat(at), tz).date()
        if day in counts:
            counts[day] += 1
    return [{"date": d.isoformat(), "failures": n} for d, n in counts.items()]


def streak(db: sqlite3.Connection, tz: tzinfo | None, today: date) -> int:
    """Days in a row with a session, up to today (or up to yesterday, if today has none yet)."""
    days = {
        local(datetime.fromisoformat(at), tz).date()
        for (at,) in db.execute("SELECT started_at FROM sessions WHERE outcome != 'reset'")
    }
    day = today if today in days else today - timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count


def history(path: Path, config: Config, state: core.State, now: datetime) -> dict[str, Any]:
    """Everything /history and GET /api/history show."""
    db = open_readonly(path)
    try:
        today = local(now, config.timezone).date()
        all_sessions = sessions(db, config, now)
        return {
            "lifetime_failures": core.total_failures(state),
            "sessions_count": len(all_sessions),
            "streak_days": streak(db, config.timezone, today),
            "today": today.isoformat(),
            "days": failures_per_day(db, config.timezone, today),
            "recent": all_sessions[:RECENT],
            "sessions": all_sessions,
            "goal": pacing(config.goal, config.deadline, len(state.units), state.first_started, now),
        }
    finally:
        db.close()
