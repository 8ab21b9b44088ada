"""The focus/break clock: wakes at the next boundary the state fixes, and crosses it once.

No polling: after every change (and at start) the next moment is computed from the state alone
(core.focus.next_boundary) and one timer is set for it. At that moment `catch-up` goes through
the one dispatch like any command, so it is committed, pushed to pages and switches the scene.
A boundary already crossed (a command got there first, or the service restarted after the
commit) is refused by the core as NoBoundaryDue: nothing fires twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from aiohttp import web

from ..core import focus
from ..core import session as core
from .dispatcher import Change, NotSaved
from .live import Live

log = logging.getLogger("study_overlay")
LATE_S = 0.01  # wake just after the moment, never just before it
RETRY_S = 1.0  # a commit that failed (disk full) is tried again
NAP_S = 60.0  # the longest sleep: the loop's timer is monotonic, the boundary is wall-clock time,
# so after a suspend or a clock change the wait is measured again at least once a minute


class BoundaryClock:
    def __init__(self, live: Live) -> None:
        self.live = live
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.wakes_at: datetime | None = None  # for the dock and tests: the boundary waited for

    def start(self) -> None:
        dispatcher = self.live.dispatcher
        dispatcher.stages.clock = self.on_change
        dispatcher.on_reload = self.reschedule  # the file was replaced: its state fixes the moment
        self.reschedule()  # after a restart a boundary may be due already: crossed at once

    async def stop(self) -> None:
        dispatcher = self.live.dispatcher
        dispatcher.stages.clock = None
        dispatcher.on_reload = None
        self._cancel()
        if self._tasks:  # a crossing under way finishes (or is refused) before storage closes
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def on_change(self, change: Change) -> None:
        self.reschedule()

    def reschedule(self, delay: float | None = None) -> None:
        self._cancel()
        dispatcher = self.live.dispatcher
        self.wakes_at = focus.next_boundary(dispatcher.state, dispatcher.config.focus_plans)
        if self.wakes_at is None:
            return
        loop = asyncio.get_running_loop()
        if delay is None:
            delay = max(0.0, (self.wakes_at - dispatcher.clock()).total_seconds()) + LATE_S
            if delay > NAP_S:
                self._timer = loop.call_later(NAP_S, self.reschedule)
                return
        self._timer = loop.call_later(delay, self._wake)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _wake(self) -> None:
        self._timer = None
        task = asyncio.ensure_future(self._cross())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _cross(self) -> None:
        try:
            await self.live.dispatch(focus.CatchUp(), "clock")  # its commit reschedules
        except core.Refused:
            self.reschedule()  # crossed already, or the clock woke a hair early: wait again
        except NotSaved as exc:
            log.warning("focus boundary not saved: %s; trying again", exc)
            self.reschedule(RETRY_S)


BOUNDARIES = web.AppKey("boundaries", BoundaryClock)
