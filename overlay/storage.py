"""SQLite storage: each accepted command is committed with the state it led to, in one transaction."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from . import core
from .config import Step

APPLICATION_ID = 0x53544F56  # "STOV": marks the file as ours
SCHEMA_VERSION = 1
SQLITE_MAGIC = b"SQLite format 3\x00"

SCHEMA = """
CREATE TABLE state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rev INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE commands (
    rev INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    command TEXT NOT NULL,
    door TEXT NOT NULL
);
CREATE TABLE sessions (
    number INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    outcome TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE failures (
    session INTEGER NOT NULL REFERENCES sessions(number),
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    step_index INTEGER NOT NULL,
    step_id TEXT NOT NULL,
    note TEXT NOT NULL,
    PRIMARY KEY (session, seq)
);
CREATE INDEX failures_at ON failures(at);
"""


class StorageError(Exception):
    """The database cannot be used; str() is the message for the user."""


# --- codec -------------------------------------------------------------------------------


def _t(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat()


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _us(d: timedelta) -> int:
    return d // timedelta(microseconds=1)


def session_to_dict(s: core.Session) -> dict[str, Any]:
    return {
        "number": s.number,
        "started_at": _t(s.started_at),
        "step_times_us": [_us(t) for t in s.step_times],
        "step": s.step,
        "running_since": _t(s.running_since),
        "paused_at": _t(s.paused_at),
        "finished_at": _t(s.finished_at),
        "failures": [[_t(f.at), f.step, f.note] for f in s.failures],
        "pauses": s.pauses,
    }


def session_from_dict(d: dict[str, Any]) -> core.Session:
    started = _dt(d["started_at"])
    assert started is not None
    return core.Session(
        number=d["number"],
        started_at=started,
        step_times=tuple(timedelta(microseconds=us) for us in d["step_times_us"]),
        step=d["step"],
        running_since=_dt(d["running_since"]),
        paused_at=_dt(d["paused_at"]),
        finished_at=_dt(d["finished_at"]),
        failures=tuple(
            core.Failure(datetime.fromisoformat(at), step, note) for at, step, note in d["failures"]
        ),
        pauses=d["pauses"],
    )


def state_to_dict(state: core.State) -> dict[str, Any]:
    return {
        "session": session_to_dict(state.session) if state.session else None,
        "last_number": state.last_number,
        "failures_before": state.failures_before,
        "discarded": session_to_dict(state.discarded) if state.discarded else None,
        "discarded_at": _t(state.discarded_at),
        "previous": session_to_dict(state.previous) if state.previous else None,
        "first_started": _t(state.first_started),
        "units": [_t(u) for u in state.units],
    }


def state_from_json(text: str) -> core.State:
    d = json.loads(text)
    return core.State(
        session=session_from_dict(d["session"]) if d["session"] else None,
        last_number=d["last_number"],
        failures_before=d["failures_before"],
        discarded=session_from_dict(d["discarded"]) if d["discarded"] else None,
        discarded_at=_dt(d["discarded_at"]),
        previous=session_from_dict(d["previous"]) if d.get("previous") else None,
        first_started=_dt(d.get("first_started")),
        units=tuple(datetime.fromisoformat(u) for u in d.get("units", ())),
    )


def _outcome(s: core.Session, reset: bool) -> str:
    if reset:
        return "reset"
    if s.finished_at is not None:
        return "finished"
    return "paused" if s.paused_at is not None else "running"


# --- the store ---------------------------------------------------------------------------


class Storage:
    """One SQLite file. Writes run on one worker thread so the event loop never waits on fsync."""

    def __init__(self, path: Path, steps: tuple[Step, ...]) -> None:
        self.path = path
        self.steps = steps
        self._db = _open(path)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="storage")

    def load(self) -> tuple[core.State, int]:
        row = self._db.execute("SELECT rev, data FROM state WHERE id = 1").fetchone()
        if row is None:
            return core.State(), 0
        return core.fit_steps(state_from_json(row[1]), len(self.steps)), int(row[0])

    async def commit(
        self, rev: int, now: datetime, command: core.Command, door: str,
        state: core.State, events: tuple[core.Event, ...],
    ) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(
            self._pool, self.commit_sync, rev, now, command, door, state, events
        )

    def commit_sync(
        self, rev: int, now: datetime, command: core.Command, door: str,
        state: core.State, events: tuple[core.Event, ...],
    ) -> None:
        db = self._db
        with db:  # isolation_level=None: the transaction must be opened by hand
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "INSERT INTO commands (rev, at, command, door) VALUES (?, ?, ?, ?)",
                (rev, _t(now), json.dumps(_command_dict(command)), door),
            )
            saved = state_to_dict(state)  # each session is serialised once, for both tables
            db.execute(
                "INSERT INTO state (id, rev, data) VALUES (1, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET rev = excluded.rev, data = excluded.data",
                (rev, json.dumps(saved)),
            )
            if state.session is not None:
                self._save_session(state.session, saved["session"], None)
            reset = any(isinstance(e, core.SessionReset) for e in events)
            if reset and state.discarded is not None:  # it stays as the reset left it
                # Resetting a finished session only clears the screen; it stays finished.
                at = state.discarded_at if state.discarded.active else None
                self._save_session(state.discarded, saved["discarded"], at)
            for event in events:
                self._apply_event(event, state)

    def _save_session(self, s: core.Session, data: dict[str, Any], reset_at: datetime | None) -> None:
        """One sessions row; `reset_at` marks an active session a reset put aside."""
        ended = reset_at or s.finished_at
        self._db.execute(
            "INSERT INTO sessions (number, started_at, ended_at, outcome, data) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(number) DO UPDATE SET "
            "ended_at = excluded.ended_at, outcome = excluded.outcome, data = excluded.data",
            (s.number, _t(s.started_at), _t(ended), _outcome(s, reset_at is not None),
             json.dumps(data)),
        )

    def _apply_event(self, event: core.Event, state: core.State) -> None:
        s = state.session
        if isinstance(event, core.FailureLogged) and s is not None:
            f = event.failure
            self._db.execute(
                "INSERT INTO failures (session, seq, at, step_index, step_id, note) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (s.number, event.count, _t(f.at), f.step, self._step_id(f.step), f.note),
            )
        elif isinstance(event, core.FailureRemoved) and s is not None:
            self._db.execute(
                "DELETE FROM failures WHERE session = ? AND seq = ?",
                (s.number, len(s.failures) + 1),
            )

    def _step_id(self, index: int) -> str:
        return self.steps[index].id if index < len(self.steps) else str(index)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._db.close()


def _command_dict(command: core.Command) -> dict[str, Any]:
    out: dict[str, Any] = {"command": command.name}
    if isinstance(command, core.Fail):
        out["note"] = command.note
    elif isinstance(command, core.Goto):
        out["step"] = command.step + 1
    return out


def _open(path: Path) -> sqlite3.Connection:
    """Open or create our database; refuse, untouched, anything that is not ours."""
    if path.is_dir():
        raise StorageError(f"{path}: is a folder, not a database file")
    fresh = not path.exists() or path.stat().st_size == 0
    if not fresh:
        try:
            with path.open("rb") as fh:
                magic = fh.read(16)
        except OSError as exc:
            raise StorageError(f"{path}: cannot read it ({exc.strerror})") from None
        if magic != SQLITE_MAGIC:
            raise StorageError(f"{path}: is not a study-overlay database (not SQLite); left it untouched")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except (sqlite3.Error, OSError) as exc:
        raise StorageError(f"{path}: cannot open it as a database ({exc})") from None
    if app_id == 0 and tables == 0:
        _create(db)
    elif app_id != APPLICATION_ID:
        db.close()
        raise StorageError(
            f"{path}: is an SQLite database of another program, not study-overlay's; left it untouched"
        )
    elif version > SCHEMA_VERSION:
        db.close()
        raise StorageError(
            f"{path}: was written by a newer study-overlay (schema {version}; this one knows "
            f"{SCHEMA_VERSION}); left it untouched. Upgrade study-overlay."
        )
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA foreign_keys = ON")
    return db


def _create(db: sqlite3.Connection) -> None:
    db.executescript(
        f"BEGIN;\n{SCHEMA}\nPRAGMA application_id = {APPLICATION_ID};\n"
        f"PRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;"
    )
