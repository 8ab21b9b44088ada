"""The pace of replies: never faster than Twitch allows, and one answer for many askers.

Twitch lets a sender post 20 chat messages in 30 s; the queue sends at most one every
`every` seconds (2 s by default: 15 in 30 s). When several viewers ask the same question at
once, they get one reply (to the first asker); a question answered less than `cooldown` ago
is not answered again. Actions (a moderator's !fail) are never merged, only paced. The text is
made when the reply is sent, so it says what the overlays say at that moment.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger("study_overlay")
Send = Callable[[str, str | None], Awaitable[None]]  # text, the message it replies to


@dataclass
class _Pending:
    key: str
    make: Callable[[], str]
    reply_to: str | None
    askers: int = 1


class Replies:
    def __init__(self, send: Send, every: float, cooldown: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.send, self.every, self.cooldown, self.clock = send, every, cooldown, clock
        self._pending: list[_Pending] = []
        self._answered: dict[str, float] = {}
        self._last_send = -1e9
        self._more = asyncio.Event()
        self.merged = 0  # asks answered by a reply already queued (for the tests and the log)
        self.skipped = 0  # asks within the cooldown

    def ask(self, key: str, make: Callable[[], str], reply_to: str | None, merge: bool = True) -> None:
        if merge:
            for p in self._pending:
                if p.key == key:
                    p.askers += 1
                    self.merged += 1
                    return
            if self.clock() - self._answered.get(key, -1e9) < self.cooldown:
                self.skipped += 1
                return
        self._pending.append(_Pending(key, make, reply_to))
        self._more.set()

    async def run(self) -> None:
        while True:
            while not self._pending:
                self._more.clear()
                await self._more.wait()
            wait = self._last_send + self.every - self.clock()
            if wait > 0:
                await asyncio.sleep(wait)
            item = self._pending.pop(0)
            self._last_send = self.clock()
            self._answered[item.key] = self._last_send
            try:
                await self.send(item.make(), item.reply_to)
            except Exception:  # one bad reply must not silence the rest
                log.exception("twitch: a reply could not be made")
