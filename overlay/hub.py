"""Fan-out of snapshots to WebSocket clients: latest wins, one slow client delays only itself."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

log = logging.getLogger("study_overlay.hub")

# Below this many unsent bytes a write cannot pause the socket, so it is done inline.
CONGESTED = 16 * 1024


class Outbox:
    """One client: written to inline while it keeps up, by its own pump when it falls behind."""

    __slots__ = ("ws", "transport", "pending", "wake", "sending")

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.BaseTransport | None, first: str):
        self.ws = ws
        self.transport = transport
        self.pending: str | None = first
        self.wake = asyncio.Event()
        self.wake.set()
        self.sending = False

    def put(self, text: str) -> None:
        self.pending = text
        self.wake.set()

    def keeps_up(self) -> bool:
        t = self.transport
        if self.sending or self.pending is not None or t is None or t.is_closing():
            return False
        size = t.get_write_buffer_size() if isinstance(t, asyncio.WriteTransport) else 0
        return size < CONGESTED


class Hub:
    def __init__(self) -> None:
        self._boxes: set[Outbox] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._boxes)

    def publish(self, text: str) -> None:
        task = asyncio.ensure_future(self._fanout(text))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fanout(self, text: str) -> None:
        # One task writes to every client that keeps up: no task switch per client.
        for box in list(self._boxes):
            if not box.keeps_up():
                box.put(text)
                continue
            try:
                await box.ws.send_str(text)
            except (ConnectionError, RuntimeError) as exc:
                log.debug("client gone: %s", exc)

    @contextlib.asynccontextmanager
    async def attached(
        self, ws: web.WebSocketResponse, first: str, transport: asyncio.BaseTransport | None = None
    ) -> AsyncIterator[Outbox]:
        """Keep `ws` fed with snapshots while the body runs. Without its transport, always pumped."""
        box = Outbox(ws, transport, first)
        self._boxes.add(box)
        pump = asyncio.create_task(_pump(box))
        try:
            yield box
        finally:
            self._boxes.discard(box)
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump


async def _pump(box: Outbox) -> None:
    while not box.ws.closed:
        await box.wake.wait()
        box.wake.clear()
        text, box.pending = box.pending, None
        if text is None:
            continue
        box.sending = True
        try:
            await box.ws.send_str(text)
        except (ConnectionError, RuntimeError) as exc:
            log.debug("client gone: %s", exc)
            return
        finally:
            box.sending = False
