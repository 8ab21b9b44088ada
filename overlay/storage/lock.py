"""One service per database: an advisory lock beside the SQLite file, held while it runs.

The lock file is named after the file's real path, so a relative path or a symlink to the same
database finds the same lock. The kernel drops the lock when the process ends, even on kill -9,
so a stale lock file never blocks a restart. Readers (export, /history) take no lock.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any

from .filelock import try_lock


class InUse(Exception):
    """Another process holds the database; str() says which, where it can tell."""


def lock_path(db: Path) -> Path:
    real = db.resolve()
    return real.with_name(real.name + ".lock")


class DatabaseLock:
    def __init__(self, db: Path) -> None:
        self.path = lock_path(db)
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock or raise InUse naming the holder; OSError if the folder is not writable."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = self.path.open("a+", encoding="utf-8")
        try:
            taken = try_lock(f)
        except BaseException:
            f.close()
            raise
        if not taken:
            f.seek(0)
            holder = _holder(f.read())
            f.close()
            raise InUse(holder)
        self._file = f
        self.describe({})

    def describe(self, info: dict[str, Any]) -> None:
        """Say who holds it (pid and, once known, the address) for whoever is refused."""
        f = self._file
        if f is None:
            return
        f.seek(0)
        f.truncate()
        f.write(json.dumps({"pid": os.getpid(), **info}))
        f.flush()

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing drops the lock; the file stays for the next holder
            self._file = None


def _holder(text: str) -> str:
    try:
        info = json.loads(text)
    except ValueError:
        info = None
    if not isinstance(info, dict):
        return "another study-overlay service"
    who = f"another study-overlay service (pid {info.get('pid', '?')}"
    url = info.get("url")
    return who + (f", serving {url})" if isinstance(url, str) else ")")
