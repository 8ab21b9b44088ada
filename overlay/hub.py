"""Fan-out of snapshots to WebSocket clients: latest wins, one slow client delays only itself."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

log = logging.getLogger("study_overlay.hub")


class Outbox:
    """What one client has yet to receive: only the newest snapshot matters."""

    __slots__ = ("pending", "wake")

    def __init__(self, first: str) -> None:
        self.pending: str | None = first
        self.wake = asyncio.Event()
        self.wake.set()

    def put(self, text: str) -> None:
        self.pending = text
        self.wake.set()


class Hub:
    def __init__(self) -> None:
        self._boxes: set[Outbox] = set()

    def __len__(self) -> int:
        return len(self._boxes)

    def publish(self, text: str) -> None:
        for box in self._boxes:
            box.put(text)

    @contextlib.asynccontextmanager
    async def attached(self, ws: web.WebSocketResponse, first: str) -> AsyncIterator[Outbox]:
        """Keep `ws` fed with snapshots while the body runs."""
        box = Outbox(first)
        self._boxes.add(box)
        pump = asyncio.create_task(_pump(ws, box))
        try:
            yield box
        finally:
            self._boxes.discard(box)
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump


async def _pump(ws: web.WebSocketResponse, box: Outbox) -> None:
    while not ws.closed:
        await box.wake.wait()
        box.wake.clear()
        text, box.pending = box.pending, None
        if text is None:
            continue
        try:
            await ws.send_str(text)
        except (ConnectionError, RuntimeError) as exc:
            log.debug("client gone: %s", exc)
            return
