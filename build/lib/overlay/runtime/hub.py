"""Fan-out of snapshots to WebSocket clients: latest wins, one slow client delays only itself."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from aiohttp import WSCloseCode, web

log = logging.getLogger("study_overlay.hub")

FRAME_HEADER = 14  # the most a WebSocket frame header takes


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

    def can_take(self, size: int) -> bool:
        """True when writing `size` bytes now cannot pause the socket, so send_str cannot wait."""
        t = self.transport
        if self.sending or self.pending is not None or not isinstance(t, asyncio.WriteTransport):
            return False
        if t.is_closing():
            return False
        # At or below the low-water mark the socket is not paused, and staying under the high
        # mark this write cannot pause it.
        low, high = t.get_write_buffer_limits()
        buffered = t.get_write_buffer_size()
        return buffered <= low and buffered + size + FRAME_HEADER <= high


class Hub:
    def __init__(self) -> None:
        self._boxes: set[Outbox] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.last_fanout_ms = 0.0  # time to hand the last change to every socket (for /healthz)

    def __len__(self) -> int:
        return len(self._boxes)

    def publish(self, text: str) -> None:
        task = asyncio.ensure_future(self._fanout(text))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fanout(self, text: str) -> None:
        # One task writes to every client that keeps up, with no task switch per client.
        # can_take() guarantees those sends finish without suspending, so each fan-out
        # runs whole and clients see revisions in order; any other client gets the text
        # through its own pump, which only ever sends its newest.
        started = time.perf_counter()
        size = len(text.encode())
        for box in list(self._boxes):
            if not box.can_take(size):
                box.put(text)
                continue
            try:
                await box.ws.send_str(text)
            except (ConnectionError, RuntimeError) as exc:
                log.debug("client gone: %s", exc)
        self.last_fanout_ms = (time.perf_counter() - started) * 1000

    def beat(self, text: str) -> None:
        """A sign of life for pages; only to clients that keep up (the rest are busy anyway)."""
        size = len(text.encode())
        ready = [box for box in self._boxes if box.can_take(size)]
        if ready:
            task = asyncio.ensure_future(_send_each(ready, text))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def close_all(
        self, code: int = WSCloseCode.GOING_AWAY, message: bytes = b"server shutdown"
    ) -> None:
        """Close every socket with a close frame: at shutdown, so it does not wait on them."""
        await asyncio.gather(
            *(box.ws.close(code=code, message=message)
              for box in list(self._boxes)),
            return_exceptions=True,
        )

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


async def _send_each(boxes: list[Outbox], text: str) -> None:
    for box in boxes:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await box.ws.send_str(text)
