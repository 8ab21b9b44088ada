"""Outside parts started and stopped with the app (aiohttp cleanup_ctx): hotkeys and the OBS link."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from . import core
from .dispatch import Change
from .hotkeys import HotkeyService
from .obs import ObsLink
from .scenes import step_for_scene, summary, wanted_scene
from .server import LIVE

log = logging.getLogger("study_overlay")


async def hotkeys_ctx(app: web.Application) -> AsyncIterator[None]:
    live = app[LIVE]
    settings = live.config.hotkeys
    if not settings.enabled:
        live.set_status("hotkeys", {"state": "off", "reason": "hotkeys.enabled is false", "confirm": None})
        yield
        return
    async def submit(command: str) -> object:
        status, answer = await live.execute({"command": command}, "hotkey")
        if status != 200 and isinstance(answer, dict):
            log.warning("hotkey %s refused: %s", command, answer.get("error"))
        return status, answer

    service = HotkeyService(
        settings.bindings, submit, lambda status: live.set_status("hotkeys", status.to_dict()),
        cooldown=settings.cooldown.total_seconds(),
        confirm_window=settings.confirm_window.total_seconds(),
    )
    await service.start()
    live.set_status("hotkeys", service.status.to_dict())
    yield
    await service.stop()


async def obs_ctx(app: web.Application) -> AsyncIterator[None]:
    live = app[LIVE]
    cfg = live.config.obs
    if not cfg.enabled:
        yield
        return
    tasks: set[asyncio.Future[None]] = set()

    def follow(scene: str) -> None:
        # OBS's own hotkeys and clicks become commands through the same dispatch.
        step_id = step_for_scene(live.config, scene)
        s = live.dispatcher.state.session
        if not cfg.follow or step_id is None or s is None or not s.active:
            return
        if s.paused_at is None and live.config.steps[s.step].id == step_id:
            return
        task = asyncio.ensure_future(_follow(s, step_id))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _follow(s: core.Session, step_id: str) -> None:
        # Leaving the break scene for a step's scene ends the break; else the paused
        # session would switch OBS straight back to the break scene.
        if s.paused_at is not None:
            await live.execute({"command": "resume"}, "obs")
        if live.config.steps[s.step].id != step_id:
            await live.execute({"command": "goto", "step": step_id}, "obs")

    link = ObsLink(
        host=cfg.host, port=cfg.port, password=cfg.password, studio_mode=cfg.studio_mode,
        on_status=lambda status: live.set_status("obs", status.to_dict()), on_scene_changed=follow,
    )

    def on_change(change: Change) -> None:
        if cfg.switch_scenes:
            link.want_scene(wanted_scene(change.state, live.config))
        link.emit_custom_event(summary(change.state, live.config, change.rev))

    live.dispatcher.subscribe(on_change)
    if cfg.switch_scenes:
        link.want_scene(wanted_scene(live.dispatcher.state, live.config))
    await link.start()
    yield
    await link.stop()
    if tasks:
        await asyncio.wait(tasks, timeout=2)
