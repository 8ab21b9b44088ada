"""Fan-out of snapshots to WebSocket clients: latest wins, one slow client delays only itself.

Each change is one Frame: the full snapshot and, for clients that asked for patches, the
patch from the frame before. Each is encoded once, whatever the number of clients, and a
client gets the patch only when the last frame it was sent is the one the patch applies to;
otherwise (it was skipped while slow, it just connected) it gets the full snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable

from aiohttp import WSCloseCode, WSMsgType, web

log = logging.getLogger("study_overlay.hub")

FRAME_HEADER = 14  # the most a WebSocket frame header takes
Key = tuple[int, int]  # (rev, status_rev): which snapshot a frame brings


class Frame:
    """One change as sent: the full snapshot text, and the patch to it from `base`."""

    __slots__ = ("key", "base", "full", "patch", "pushed", "_full_bytes", "_patch_bytes", "_wire")

    def __init__(self, key: Key, full: str | Callable[[], str], base: Key | None = None,
                 patch: str | None = None, *, pushed: bool = True) -> None:
        # The full text may be made only when a client needs it: pages that take patches never do.
        self.key, self.full, self.base, self.patch = key, full, base, patch
        # False for a snapshot made for one client (on connect, on resync): made at another moment
        # than the push with the same key, a patch from that push may not fit it exactly.
        self.pushed = pushed
        self._full_bytes: bytes | None = None
        self._patch_bytes: bytes | None = None
        self._wire: dict[bool, bytes] = {}  # the whole WebSocket frame, by "is the patch"

    def fits(self, last: Key | None, patches: bool) -> bool:
        """Whether a client last sent `last` takes the patch (else the full snapshot)."""
        return patches and self.patch is not None and last is not None and last == self.base

    def wire(self, last: Key | None, patches: bool) -> bytes:
        """The text frame as it goes on the socket, header and all: built once, for every client."""
        patch = self.fits(last, patches)
        found = self._wire.get(patch)
        if found is None:
            found = self._wire[patch] = _text_frame(self.payload(last, patches))
        return found

    def payload(self, last: Key | None, patches: bool) -> bytes:
        """The bytes for a client that was last sent `last`: encoded the first time asked."""
        if self.fits(last, patches) and self.patch is not None:
            if self._patch_bytes is None:
                self._patch_bytes = self.patch.encode()
            return self._patch_bytes
        if self._full_bytes is None:
            if not isinstance(self.full, str):
                self.full = self.full()
            self._full_bytes = self.full.encode()
        return self._full_bytes


def _text_frame(payload: bytes) -> bytes:
    """A final, unmasked, uncompressed text frame (RFC 6455 5.2), as a server sends it."""
    n = len(payload)
    if n < 126:
        header = bytes((0x81, n))
    elif n < 1 << 16:
        header = bytes((0x81, 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + n.to_bytes(8, "big")
    return header + payload


class Outbox:
    """One client: written to inline while it keeps up, by its own pump when it falls behind."""

    __slots__ = ("ws", "transport", "pending", "wake", "sending", "last", "patches")

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.BaseTransport | None, first: Frame,
                 patches: bool = False):
        self.ws = ws
        self.transport = transport
        self.pending: Frame | None = first
        self.wake = asyncio.Event()
        self.wake.set()
        self.sending = False
        self.last: Key | None = None  # the frame it was last sent; None: the next one goes in full
        self.patches = patches

    def put(self, frame: Frame) -> None:
        self.pending = frame
        self.wake.set()

    def can_take(self, size: int) -> bool:
        """True when writing `size` bytes now cannot pause the socket, so a send cannot wait."""
        t = self.transport
        if self.sending or self.pending is not None or not isinstance(t, asyncio.WriteTransport):
            return False
        if t.is_closing() or self.ws.closed:
            return False
        # At or below the low-water mark the socket is not paused, and staying under the high
        # mark this write cannot pause it.
        low, high = t.get_write_buffer_limits()
        buffered = t.get_write_buffer_size()
        return buffered <= low and buffered + size + FRAME_HEADER <= high

    def write(self, frame: Frame, wire: bytes) -> None:
        """Straight onto the socket: only when can_take() says it cannot pause, and between whole
        frames (aiohttp writes its own frames whole too, and the socket has no compression)."""
        self.last = frame.key if frame.pushed else None
        assert isinstance(self.transport, asyncio.WriteTransport)
        self.transport.write(wire)

    async def send(self, frame: Frame) -> None:
        data = frame.payload(self.last, self.patches)
        # Before the await: a frame that raced it must not patch from the old one.
        self.last = frame.key if frame.pushed else None
        await self.ws.send_frame(data, WSMsgType.TEXT)


class Hub:
    def __init__(self) -> None:
        self._boxes: set[Outbox] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.last_fanout_ms = 0.0  # time to hand the last change to every socket (for /healthz)

    def __len__(self) -> int:
        return len(self._boxes)

    def publish(self, frame: Frame) -> None:
        """Every client that keeps up gets the frame now, before the caller goes on (the dispatcher
        hands its commit to the storage thread after this: the two would share one GIL), in
        publish order; any other gets it through its own pump, which only ever sends its newest."""
        started = time.perf_counter()
        for box in list(self._boxes):
            wire = frame.wire(box.last, box.patches)
            if box.can_take(len(wire)):
                box.write(frame, wire)
            else:
                box.put(frame)
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
        self, ws: web.WebSocketResponse, first: Frame, transport: asyncio.BaseTransport | None = None,
        *, patches: bool = False,
    ) -> AsyncIterator[Outbox]:
        """Keep `ws` fed with snapshots while the body runs. Without its transport, always pumped."""
        box = Outbox(ws, transport, first, patches)
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
        frame, box.pending = box.pending, None
        if frame is None:
            continue
        box.sending = True
        try:
            await box.send(frame)
        except (ConnectionError, RuntimeError) as exc:
            log.debug("client gone: %s", exc)
            return
        finally:
            box.sending = False


async def _send_each(boxes: list[Outbox], text: str) -> None:
    for box in boxes:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await box.ws.send_str(text)
