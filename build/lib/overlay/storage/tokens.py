"""The Twitch login, kept in the SQLite file beside the state (never in config.yaml, a log or a page).

One row, written in one short transaction by whoever holds the newest pair: the service after a
refresh, or `study-overlay twitch login` (which may run while the service does). Twitch's refresh
tokens are single-use: the one who refreshes holds an advisory lock beside the file for the whole
exchange, reads the row again under it (another process may have refreshed first) and writes the
new pair before anything uses it, so a crash at any moment leaves a pair that works.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from .schema import APPLICATION_ID
from .store import StorageError, _open

TABLE = """CREATE TABLE IF NOT EXISTS twitch_login (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    data TEXT NOT NULL,
    saved_at TEXT NOT NULL
)"""


@dataclass(frozen=True)
class Login:
    user_id: str
    login: str
    scopes: tuple[str, ...]
    expires_at: datetime  # of the access token
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)

    def to_json(self) -> str:
        return json.dumps({
            "user_id": self.user_id, "login": self.login, "scopes": list(self.scopes),
            "expires_at": self.expires_at.isoformat(), "access_token": self.access_token,
            "refresh_token": self.refresh_token,
        })

    @staticmethod
    def from_json(text: str) -> Login:
        d = json.loads(text)
        return Login(user_id=d["user_id"], login=d["login"], scopes=tuple(d["scopes"]),
                     expires_at=datetime.fromisoformat(d["expires_at"]),
                     access_token=d["access_token"], refresh_token=d["refresh_token"])


class LoginStore:
    """The login row of one database file; every call opens, works and closes in a moment."""

    def __init__(self, db: Path) -> None:
        self.db = db
        real = db.resolve()
        self.lock_path = real.with_name(real.name + ".twitch.lock")

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """Through SQLite only. Never open() the file in a process that has it open: closing any
        descriptor of it drops every POSIX lock the process holds on it, and another process
        would then take the service's WAL for its own and delete it (losing commits)."""
        if not self.db.exists() or self.db.stat().st_size == 0:
            _open(self.db, []).close()  # a new file: made as the service makes it
        try:
            conn = sqlite3.connect(self.db, isolation_level=None, timeout=5.0)
        except sqlite3.Error as exc:
            raise StorageError(f"{self.db}: cannot open it ({exc})") from None
        try:
            if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                raise StorageError(f"{self.db}: is not a study-overlay database; left it untouched")
            conn.execute(TABLE)
            yield conn
        except sqlite3.Error as exc:
            raise StorageError(f"{self.db}: cannot keep the Twitch login ({exc})") from None
        finally:
            conn.close()

    def load(self) -> Login | None:
        with self._connection() as conn:
            row = conn.execute("SELECT data FROM twitch_login WHERE id = 1").fetchone()
        return Login.from_json(row[0]) if row else None

    def save(self, login: Login) -> None:
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO twitch_login (id, data, saved_at) VALUES (1, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET data = excluded.data, saved_at = excluded.saved_at",
                (login.to_json(), datetime.now(UTC).isoformat()),
            )
            conn.execute("COMMIT")

    def clear(self) -> bool:
        """Forget the login; False when there was none."""
        with self._connection() as conn:
            gone = conn.execute("DELETE FROM twitch_login WHERE id = 1").rowcount
        return bool(gone)

    def lock(self, timeout: float = 30.0) -> IO[str]:
        """Taken while refreshing (blocking; from a thread in the service): one process at a time
        spends the single-use refresh token. Give the result to unlock()."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        f = self.lock_path.open("a")
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return f
            except BlockingIOError:
                if time.monotonic() > deadline:
                    f.close()
                    raise StorageError("another process has been refreshing the Twitch login for "
                                       f"{timeout:.0f} s") from None
                time.sleep(0.05)

    @staticmethod
    def unlock(f: IO[str]) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
        f.close()
