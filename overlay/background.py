"""Outside parts started and stopped with the app (aiohttp cleanup_ctx): hotkeys and the OBS link."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from .hotkeys import HotkeyService
from .server import LIVE


async def hotkeys_ctx(app: web.Application) -> AsyncIterator[None]:
    live = app[LIVE]
    settings = live.config.hotkeys
    if not settings.enabled:
        live.set_status("hotkeys", {"state": "off", "reason": "hotkeys.enabled is false", "confirm": None})
        yield
        return
    async def submit(command: str) -> object:
        return await live.execute({"command": command}, "hotkey")

    service = HotkeyService(
        settings.bindings, submit, lambda status: live.set_status("hotkeys", status.to_dict()),
        cooldown=settings.cooldown.total_seconds(),
        confirm_window=settings.confirm_window.total_seconds(),
    )
    await service.start()
    live.set_status("hotkeys", service.status.to_dict())
    yield
    await service.stop()
