"""An exclusive, non-blocking lock on an open file: flock on POSIX, msvcrt on Windows.

The kernel drops it when the process ends, kill -9 included, on both. On Windows a locked range
cannot be read by others, so the lock is taken on one byte far past what the file holds (the
holder's pid and address stay readable). Only the POSIX side is tested here.
"""

from __future__ import annotations

import sys
from typing import IO, Any

if sys.platform == "win32":
    import msvcrt

    _FAR = 1 << 30

    def try_lock(f: IO[Any]) -> bool:
        where = f.tell()
        f.seek(_FAR)
        try:
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
        finally:
            f.seek(where)

    def release_lock(f: IO[Any]) -> None:
        where = f.tell()
        f.seek(_FAR)
        try:
            msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
        finally:
            f.seek(where)

else:
    import fcntl

    def try_lock(f: IO[Any]) -> bool:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def release_lock(f: IO[Any]) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
