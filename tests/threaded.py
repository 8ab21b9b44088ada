"""An aiohttp application served from a thread of its own, on a free loopback port: for a test
that drives it from synchronous code (Playwright, a subprocess), such as the app with an injected
clock or a stand-in for Twitch or OBS. Use it as a context manager."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Self, TypeVar

from aiohttp import web

from .procs import free_port

T = TypeVar("T")


class ThreadedApp:
    thread_name = "app-server"

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)

    def build(self) -> web.Application:
        raise NotImplementedError

    async def closing(self) -> None:
        """Before the app's cleanup: close what it holds open (sockets)."""

    def __enter__(self) -> Self:
        self._thread.start()
        if not self._ready.wait(15) or self._failure is not None:
            raise RuntimeError(f"{self.thread_name} did not start: {self._failure!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)

    def call(self, make: Callable[[], Awaitable[T]], timeout: float = 10) -> T:
        """Run a coroutine on the app's loop from the test's thread."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(make(), self._loop).result(timeout)  # type: ignore[arg-type]

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to the test thread by __enter__
            self._failure = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        runner = web.AppRunner(self.build(), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            self._ready.set()
            await self._stop.wait()
        finally:
            await self.closing()
            await runner.cleanup()
