"""The one place every command goes through, whatever door it came in by."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from . import core
from .config import Config
from .storage import Storage

log = logging.getLogger("study_overlay")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Change:
    rev: int
    at: datetime
    door: str
    command: core.Command
    state: core.State
    events: tuple[core.Event, ...]


Listener = Callable[[Change], None]


class Dispatcher:
    """Runs commands one at a time: core, then commit, then tell the listeners."""

    def __init__(
        self, config: Config, storage: Storage, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.config = config
        self.storage = storage
        self.clock = clock
        self.state, self.rev = storage.load()
        self._lock = asyncio.Lock()
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def dispatch(self, command: core.Command, door: str) -> Change:
        """Apply a command; raises core.Refused (nothing changed) or returns the committed change."""
        async with self._lock:
            now = self.clock()
            state, events = core.apply(self.state, command, now, len(self.config.steps))
            rev = self.rev + 1
            await self.storage.commit(rev, now, command, door, state, events)
            self.state, self.rev = state, rev
            change = Change(rev, now, door, command, state, events)
            log.info("rev %d %s via %s -> %s", rev, command.name, door, core.phase(state))
            # Inside the lock, so listeners see changes in rev order.
            for listener in self._listeners:
                try:
                    listener(change)
                except Exception:
                    log.exception("listener failed on rev %d", rev)
            return change
