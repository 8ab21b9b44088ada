"""A slow viewer on a real socket must not delay, or reorder, what other viewers see."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
from typing import Any

import aiohttp
from aiohttp import web

from overlay.app import LIVE, build_app
from overlay.config import Config
from overlay.storage.store import Storage

from .procs import free_port


async def _slow_viewer(port: int, stop: asyncio.Event) -> None:
    """Opens /ws and then reads a few bytes now and then, like a viewer on a bad link."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    key = base64.b64encode(os.urandom(16)).decode()
    s.send((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    try:
        while not stop.is_set():
            try:
                s.recv(2048)
            except BlockingIOError:
                pass
            await asyncio.sleep(0.05)
    finally:
        s.close()


async def test_slow_viewers_neither_delay_nor_reorder_a_fast_one(config: Config) -> None:
    app = build_app(config, Storage(config.storage_path, config.steps))
    hub = app[LIVE].hub
    attach = hub.attached

    def small_buffers(ws: web.WebSocketResponse, first: Any, transport: Any = None, **kw: Any) -> Any:
        # Loopback buffers megabytes; a real network link holds far less.
        transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)
        return attach(ws, first, transport, **kw)

    hub.attached = small_buffers  # type: ignore[method-assign]
    port = free_port()
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}"
    stop = asyncio.Event()
    try:
        async with aiohttp.ClientSession() as http:
            async def command(name: str, **extra: str) -> int:
                async with http.post(f"{url}/api/commands", json={"command": name, **extra}) as r:
                    return int((await r.json())["rev"])

            await command("start")
            for _ in range(100):  # big snapshots: 100 notes of 280 two-byte characters
                await command("fail", note="é" * 280)
            slow = [asyncio.create_task(_slow_viewer(port, stop)) for _ in range(3)]
            async with http.ws_connect(f"{url}/ws", max_msg_size=0) as fast:
                seen: list[int] = []

                async def until(rev: int) -> None:
                    while not seen or seen[-1] < rev:
                        data = json.loads((await fast.receive()).data)
                        seen.append(data["rev"])

                await asyncio.sleep(0.3)
                for _ in range(15):
                    rev = await command("toggle-pause")
                    await asyncio.wait_for(until(rev), 5)
                assert seen == sorted(seen), f"revisions went backwards: {seen}"
                assert len(hub) == 4
            stop.set()
            await asyncio.gather(*slow)
    finally:
        stop.set()
        await runner.cleanup()


class _Transport(asyncio.WriteTransport):
    """A socket's send buffer: `high` is where a real one pauses the writer."""

    def __init__(self, buffered: int, high: int = 64 * 1024) -> None:
        super().__init__()
        self.buffered, self.high = buffered, high
        self.got: list[str] = []  # set to its socket's list

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return (self.high // 4, self.high)

    def is_closing(self) -> bool:
        return False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """A whole text frame the hub wrote itself: what the peer reads is its payload."""
        data = bytes(data)
        assert data[0] == 0x81, data[:2]  # final text frame, no compression
        size = data[1] & 0x7F
        start = {126: 4, 127: 10}.get(size, 2)
        self.got.append(data[start:start + 2].decode())


class _Ws:
    """Like aiohttp: a write that crosses the high-water mark waits for the peer to drain."""

    def __init__(self, transport: _Transport) -> None:
        self.transport, self.closed, self.got = transport, False, []  # type: list[str]
        transport.got = self.got  # a frame written straight to the socket arrives the same way
        self.drained = asyncio.Event()

    async def send_frame(self, data: bytes, opcode: object) -> None:
        if self.transport.buffered + len(data) > self.transport.high:
            await self.drained.wait()
        self.got.append(data[:2].decode())


async def test_a_write_that_would_pause_goes_to_the_clients_own_pump() -> None:
    from overlay.runtime.hub import Frame, Hub

    hub = Hub()
    slow = [_Ws(_Transport(buffered=10_000)) for _ in range(5)]
    fast = _Ws(_Transport(buffered=0))
    big = "x" * 60_000  # fits an empty buffer, not one already holding 10 KB
    async with contextlib.AsyncExitStack() as stack:
        for ws in (*slow, fast):
            await stack.enter_async_context(hub.attached(ws, Frame((0, 0), "r0"), ws.transport))  # type: ignore[arg-type]
        await asyncio.sleep(0.01)
        for rev in range(1, 4):
            hub.publish(Frame((rev, 0), f"r{rev}{big}"))
            await asyncio.sleep(0.01)
        assert fast.got == ["r0", "r1", "r2", "r3"]
        assert all(ws.got == ["r0"] for ws in slow)  # still waiting for their peers
        for ws in slow:
            ws.drained.set()
        await asyncio.sleep(0.01)
        assert all(ws.got[-1] == "r3" and ws.got == sorted(ws.got) for ws in slow)
