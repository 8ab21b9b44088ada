"""SQLite storage: each accepted command is committed with the state it led to, in one transaction.

Each thing is stored once: a session in its row, a failure in the failures table, and the state
names its sessions by number (schema.py has the format and its migrations).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..core import focus, undo
from ..core import session as core
from ..core.commands import to_dict
from ..core.routine import Reroute
from ..core.settings import Step
from .chains import Chains
from .lock import DatabaseLock, InUse
from .schema import APPLICATION_ID, VERSION, create, migrate

Logged = core.Command | Reroute  # what the command log keeps: a door's command, or the routine's edit

SQLITE_MAGIC = b"SQLite format 3\x00"


class StorageError(Exception):
    """The database cannot be used; str() is the message for the user."""


class FileChanged(StorageError):
    """Another program wrote to the file, or put another file in its place, since we last did."""


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
        "pauses": s.pauses,
        "visited": sorted(s.visited),
        "break_times_us": [_us(t) for t in focus.breaks(s)],
        "cycle": cycle_to_dict(s.cycle),
    }


def session_from_dict(d: dict[str, Any], failures: tuple[core.Failure, ...] = ()) -> core.Session:
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
        failures=failures,
        pauses=d["pauses"],
        # Written before steps could be skipped: every step counts as visited.
        visited=frozenset(d.get("visited", range(len(d["step_times_us"])))),
        # Written before breaks existed: none taken, the cycle is the one its focus time says.
        break_times=tuple(timedelta(microseconds=us)
                          for us in d.get("break_times_us", [0] * len(d["step_times_us"]))),
        cycle=cycle_from_dict(d["cycle"]) if "cycle" in d else focus.Cycle(),
    )


def cycle_to_dict(c: focus.Cycle) -> dict[str, Any]:
    return {
        "done": c.done, "focus_from_us": _us(c.focus_from), "on_break": c.on_break,
        "break_from_us": _us(c.break_from), "over": c.over, "extra_us": _us(c.extra),
        "since": _t(c.since),
    }


def cycle_from_dict(d: dict[str, Any]) -> focus.Cycle:
    return focus.Cycle(
        done=d["done"], focus_from=timedelta(microseconds=d["focus_from_us"]), on_break=d["on_break"],
        break_from=timedelta(microseconds=d["break_from_us"]), over=d["over"],
        extra=timedelta(microseconds=d["extra_us"]), since=_dt(d.get("since")),
    )


def state_to_dict(state: core.State) -> dict[str, Any]:
    """The state, its sessions by number (each is kept in its own row)."""
    return {
        "session": state.session.number if state.session else None,
        "last_number": state.last_number,
        "failures_before": state.failures_before,
        "discarded": state.discarded.number if state.discarded else None,
        "discarded_at": _t(state.discarded_at),
        "previous": state.previous.number if state.previous else None,
        "first_started": _t(state.first_started),
        "units": [_t(u) for u in state.units],
        "muted": state.muted,
        "tested": None if state.tested is None else {"cue": state.tested[0], "at": _t(state.tested[1])},
    }


def read_session(db: sqlite3.Connection, number: int) -> core.Session:
    row = db.execute("SELECT data FROM sessions WHERE number = ?", (number,)).fetchone()
    if row is None:
        raise StorageError(f"the state names session {number}, which is not in the file")
    failures = tuple(
        core.Failure(datetime.fromisoformat(at), step, note)
        for at, step, note in db.execute(
            "SELECT at, step_index, note FROM failures WHERE session = ? ORDER BY seq", (number,)
        )
    )
    return session_from_dict(json.loads(row[0]), failures)


def state_from_db(db: sqlite3.Connection, text: str) -> core.State:
    return state_from_dict(json.loads(text), lambda number: read_session(db, number))


def state_from_dict(d: dict[str, Any], find: Callable[[int], core.Session]) -> core.State:
    def session(key: str) -> core.Session | None:
        number = d.get(key)
        return None if number is None else find(number)

    return core.State(
        session=session("session"),
        last_number=d["last_number"],
        failures_before=d["failures_before"],
        discarded=session("discarded"),
        discarded_at=_dt(d["discarded_at"]),
        previous=session("previous"),
        first_started=_dt(d.get("first_started")),
        units=tuple(datetime.fromisoformat(u) for u in d.get("units", ())),
        muted=d.get("muted", False),  # written before sounds: none muted, none tested
        tested=_tested(d.get("tested")),
    )


def full_state_to_json(state: core.State, failures: Callable[[core.Session], dict[str, Any]]) -> str:
    """The state with its sessions in it (an undo entry: the sessions' rows may change since);
    `failures` gives each session's failures as the entry keeps them (chains.py)."""
    d = state_to_dict(state)
    d["sessions"] = {
        str(s.number): {**session_to_dict(s), **failures(s)}
        for s in (state.session, state.discarded, state.previous) if s is not None
    }
    return json.dumps(d)


def full_state_from_json(
    text: str, chain: Callable[[int, int | None], tuple[core.Failure, ...]]
) -> core.State:
    d = json.loads(text)

    def find(number: int) -> core.Session:
        sd = d["sessions"][str(number)]
        if "failures" in sd:  # written by schema 3: the list in full
            failures = tuple(core.Failure(datetime.fromisoformat(at), step, note)
                             for at, step, note in sd["failures"])
        else:
            failures = chain(number, sd["failures_head"])
        return session_from_dict(sd, failures)

    return state_from_dict(d, find)


def _tested(d: dict[str, Any] | None) -> tuple[str, datetime] | None:
    at = _dt(d["at"]) if d else None
    return None if d is None or at is None else (d["cue"], at)


def outcome(s: core.Session, reset: bool) -> str:
    return "reset" if reset else core.session_phase(s)


# --- the store ---------------------------------------------------------------------------


class Storage:
    """One SQLite file. Writes run on one worker thread so the event loop never waits on fsync."""

    def __init__(self, path: Path, steps: tuple[Step, ...]) -> None:
        self.path = path
        self.steps = steps
        self.lock = DatabaseLock(path)
        try:
            self.lock.acquire()
        except InUse as exc:
            raise StorageError(
                f"{path}: is in use by {exc}. One service per database: stop that one, or give "
                "this one its own file with --db or storage.path"
            ) from None
        except OSError as exc:
            raise StorageError(f"{path}: cannot lock it ({exc.strerror})") from None
        try:
            self._db: sqlite3.Connection | None = _open(path, [st.id for st in steps])
            self._identity = _identity(path)
        except BaseException:
            self.lock.release()
            raise
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="storage")
        self._last_after: tuple[core.State | None, str] = (None, "")  # the last undo entry's after, as text
        self._chains = Chains()

    def load(self) -> tuple[core.State, int]:
        return _load(self._connection(), len(self.steps))

    async def reload(self) -> tuple[core.State, int]:
        """After FileChanged: let go of the file we had, then read what the path holds now."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._reload)

    def _reload(self) -> tuple[core.State, int]:
        if self._db is not None:
            # The old file's WAL is named after the path: emptied first, it cannot be applied
            # to the file now there (SQLite would, on the next open).
            busy = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if busy:
                raise StorageError(f"{self.path} was replaced, and another program still reads the "
                                   "old one; try again once it is done, or restart the service")
            self._db.close()
            self._db = None  # until a file at the path can be opened
        try:
            db = _open(self.path, [st.id for st in self.steps])
        except StorageError:
            raise
        except Exception as exc:
            raise StorageError(f"{self.path}: cannot open it ({exc})") from None
        try:
            state_rev = _load(db, len(self.steps))
        except Exception as exc:
            db.close()
            raise StorageError(f"{self.path}: cannot read its state ({exc})") from None
        self._db, self._identity = db, _identity(self.path)
        self._chains.forget()
        self._last_after = (None, "")
        return state_rev

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise FileChanged(f"{self.path} was replaced and could not be opened since")
        return self._db

    async def commit(
        self, rev: int, now: datetime, command: Logged, door: str,
        state: core.State, events: tuple[core.Event, ...], history: undo.History | None = None,
    ) -> None:
        await self.commit_soon(rev, now, command, door, state, events, history)

    def commit_soon(
        self, rev: int, now: datetime, command: Logged, door: str,
        state: core.State, events: tuple[core.Event, ...], history: undo.History | None = None,
    ) -> asyncio.Future[None]:
        """The commit, already handed to the storage thread when this returns."""
        return asyncio.get_running_loop().run_in_executor(
            self._pool, self.commit_sync, rev, now, command, door, state, events, history)

    def commit_sync(
        self, rev: int, now: datetime, command: Logged, door: str,
        state: core.State, events: tuple[core.Event, ...], history: undo.History | None = None,
    ) -> None:
        try:
            self._commit(rev, now, command, door, state, events, history)
        except BaseException:
            self._chains.forget()  # what they wrote in this transaction was rolled back
            self._last_after = (None, "")
            raise

    def _commit(
        self, rev: int, now: datetime, command: Logged, door: str,
        state: core.State, events: tuple[core.Event, ...], history: undo.History | None,
    ) -> None:
        db = self._connection()
        with db:  # isolation_level=None: the transaction must be opened by hand
            db.execute("BEGIN IMMEDIATE")
            self._check_unchanged(rev - 1)
            db.execute(
                "INSERT INTO commands (rev, at, command, door) VALUES (?, ?, ?, ?)",
                (rev, _t(now), json.dumps(to_dict(command, self.steps)), door),
            )
            db.execute(
                "INSERT INTO state (id, rev, data) VALUES (1, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET rev = excluded.rev, data = excluded.data",
                (rev, json.dumps(state_to_dict(state))),
            )
            if state.session is not None:
                self._save_session(state.session, None)
            reset = any(isinstance(e, core.SessionReset) for e in events)
            if reset and state.discarded is not None:  # it stays as the reset left it
                # Resetting a finished session only clears the screen; it stays finished.
                self._save_session(state.discarded, state.discarded_at if state.discarded.active else None)
            for event in events:
                self._apply_event(event, state)
            self._keep_history(rev, command, state, events, history)

    def _keep_history(
        self, rev: int, command: Logged, state: core.State, events: tuple[core.Event, ...],
        history: undo.History | None,
    ) -> None:
        db = self._connection()
        moved = next((e for e in events if isinstance(e, undo.Undone | undo.Redone)), None)
        if history is not None and isinstance(command, Reroute):
            self._rewrite_history(history)
            self._resync(state)
            if state.previous is not None:  # its steps moved too; its outcome and end stay
                self._restep(state.previous)
        elif moved is not None:  # the command's row says whether it stands; the tables follow the state
            flag = int(isinstance(moved, undo.Undone))
            db.execute("UPDATE undo SET undone = ? WHERE rev = ?", (flag, moved.entry.rev))
            db.execute("UPDATE commands SET undone = ? WHERE rev = ?", (flag, moved.entry.rev))
            self._resync(state)
        elif history is not None and history.done and history.done[-1].rev == rev:
            entry = history.done[-1]
            # The state before a command is, most often, the one the previous command made: its
            # text is kept from then rather than made again.
            last_state, last_text = self._last_after
            before = last_text if entry.before is last_state else self._state_json(entry.before)
            after = self._state_json(entry.after)
            db.execute("DELETE FROM undo WHERE undone = 1")  # no redo past a new command
            db.execute("INSERT INTO undo (rev, command, at, undone, before, after) VALUES (?, ?, ?, 0, ?, ?)",
                       (rev, entry.command, _t(entry.at), before, after))
            self._last_after = (entry.after, after)
            db.execute("DELETE FROM undo WHERE rev < ?", (history.done[0].rev,))

    def _state_json(self, state: core.State) -> str:
        db = self._connection()
        return full_state_to_json(
            state, lambda s: {"failures_head": self._chains.head(db, s.number, s.failures)})

    def _rewrite_history(self, history: undo.History) -> None:
        """After the routine changed: every entry's states, carried over to it, replace the old."""
        db = self._connection()
        db.execute("DELETE FROM undo")
        rows = [(e.rev, e.command, _t(e.at), flag, self._state_json(e.before), self._state_json(e.after))
                for flag, entries in ((0, history.done), (1, history.undone)) for e in entries]
        db.executemany("INSERT INTO undo (rev, command, at, undone, before, after) VALUES (?, ?, ?, ?, ?, ?)",
                       rows)
        self._last_after = (None, "")

    def _restep(self, s: core.Session) -> None:
        """A session's step times and its failures' steps, as a routine edit moved them."""
        self._connection().execute("UPDATE sessions SET data = ? WHERE number = ?",
                                   (json.dumps(session_to_dict(s)), s.number))
        self._rewrite_failures(s)

    def _rewrite_failures(self, s: core.Session) -> None:
        db = self._connection()
        db.execute("DELETE FROM failures WHERE session = ?", (s.number,))
        db.executemany(
            "INSERT INTO failures (session, seq, at, step_index, step_id, note) VALUES (?, ?, ?, ?, ?, ?)",
            [(s.number, seq, _t(f.at), f.step, self._step_id(f.step), f.note)
             for seq, f in enumerate(s.failures, start=1)])

    def _resync(self, state: core.State) -> None:
        """After an undo or a redo: the sessions' rows and failures as the state has them."""
        db = self._connection()
        db.execute("DELETE FROM failures WHERE session > ?", (state.last_number,))
        db.execute("DELETE FROM sessions WHERE number > ?", (state.last_number,))
        kept: list[tuple[core.Session | None, datetime | None]] = [(state.session, None)]
        if state.discarded is not None:
            kept.append((state.discarded, state.discarded_at if state.discarded.active else None))
        for s, reset_at in kept:
            if s is None:
                continue
            self._save_session(s, reset_at)
            self._rewrite_failures(s)

    def load_history(self) -> undo.History:
        try:
            return self._load_history()
        except (sqlite3.Error, KeyError, ValueError) as exc:
            raise StorageError(f"{self.path}: cannot read its undo history ({exc})") from None

    def _load_history(self) -> undo.History:
        db = self._connection()
        rows = db.execute("SELECT rev, command, at, undone, before, after FROM undo ORDER BY rev").fetchall()

        def chain(number: int, head: int | None) -> tuple[core.Failure, ...]:
            return self._chains.failures(db, number, head)

        entries = [(undone, undo.Entry(command, rev, datetime.fromisoformat(at),
                                       full_state_from_json(before, chain),
                                       full_state_from_json(after, chain)))
                   for rev, command, at, undone, before, after in rows]
        return undo.History(done=tuple(e for u, e in entries if not u),
                            undone=tuple(e for u, e in reversed(entries) if u))

    def _check_unchanged(self, rev: int) -> None:
        """Write only over what we last wrote: the same file, at the same rev."""
        try:
            same_file = _identity(self.path) == self._identity
        except OSError:
            raise StorageError(
                f"{self.path} is gone (moved or deleted while the service ran); put it back, "
                "or restart to begin a new file"
            ) from None
        if not same_file:
            raise FileChanged(f"another file was put in place of {self.path}")
        row = self._connection().execute("SELECT rev FROM state WHERE id = 1").fetchone()
        if (row[0] if row else 0) != rev:
            raise FileChanged(f"another program wrote to {self.path} (rev {row[0] if row else 0}, "
                              f"this service had {rev})")

    def _save_session(self, s: core.Session, reset_at: datetime | None) -> None:
        """One sessions row; `reset_at` marks an active session a reset put aside."""
        ended = reset_at or s.finished_at
        self._connection().execute(
            "INSERT INTO sessions (number, started_at, ended_at, outcome, data) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(number) DO UPDATE SET "
            "ended_at = excluded.ended_at, outcome = excluded.outcome, data = excluded.data",
            (s.number, _t(s.started_at), _t(ended), outcome(s, reset_at is not None),
             json.dumps(session_to_dict(s))),
        )

    def _apply_event(self, event: core.Event, state: core.State) -> None:
        s = state.session
        if isinstance(event, core.FailureLogged) and s is not None:
            f = event.failure
            self._connection().execute(
                "INSERT INTO failures (session, seq, at, step_index, step_id, note) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (s.number, event.count, _t(f.at), f.step, self._step_id(f.step), f.note),
            )
        elif isinstance(event, core.FailureRemoved) and s is not None:
            self._connection().execute(
                "DELETE FROM failures WHERE session = ? AND seq = ?",
                (s.number, len(s.failures) + 1),
            )

    def _step_id(self, index: int) -> str:
        return self.steps[index].id if index < len(self.steps) else str(index)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        if self._db is not None:
            self._db.close()
        self.lock.release()  # after SQLite lets go of the file


def _load(db: sqlite3.Connection, step_count: int) -> tuple[core.State, int]:
    row = db.execute("SELECT rev, data FROM state WHERE id = 1").fetchone()
    if row is None:
        return core.State(), 0
    return core.fit_steps(state_from_db(db, row[1]), step_count), int(row[0])


def _identity(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _open(path: Path, step_ids: list[str]) -> sqlite3.Connection:
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
        create(db)
        version = VERSION
    elif app_id != APPLICATION_ID:
        db.close()
        raise StorageError(
            f"{path}: is an SQLite database of another program, not study-overlay's; left it untouched"
        )
    elif version > VERSION:
        db.close()
        raise StorageError(
            f"{path}: was written by a newer study-overlay (schema {version}; this one knows "
            f"{VERSION}); left it untouched. Upgrade study-overlay."
        )
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA foreign_keys = ON")
    try:
        migrate(db, path, version, step_ids)
    except (sqlite3.Error, OSError) as exc:
        db.close()
        raise StorageError(f"{path}: cannot bring it up to date from schema {version} ({exc}); "
                           "left it as it was") from None
    return db
