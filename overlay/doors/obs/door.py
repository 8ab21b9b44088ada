"""OBS as a door: scene switches made in OBS become commands; each change moves OBS's scene."""

from __future__ import annotations

import asyncio
import logging

from ...core import focus
from ...core import session as core
from ...core.scenes import step_for_scene, summary, wanted_scene
from ...core.settings import Config
from ...i18n import N_, Language, Said, language
from ...runtime.dispatcher import Change, NotSaved
from ...runtime.live import Live
from .link import ObsLink

log = logging.getLogger("study_overlay")


def chapters(change: Change, config: Config, lang: Language) -> list[str]:
    """The recording's chapters a change begins: "2 · Watch the lecture, first pass" at a step,
    "2 · Break" at a break (the step's number), the step again when the break ends."""
    def step(i: int) -> str:
        return f"{i + 1} \u00b7 {config.steps[i].title}"

    names = []
    pause = lang("Break")
    for event in change.events:
        if isinstance(event, core.SessionStarted):
            names.append(step(0))
        elif isinstance(event, core.StepChanged):
            names.append(step(event.to_step))
        elif isinstance(event, focus.BreakStarted):
            names.append(f"{event.step + 1} \u00b7 {pause}")
        elif isinstance(event, focus.BreakEnded) and not event.waiting:
            names.append(step(event.step))
    return names


class ObsDoor:
    """Owns the link; `on_change` is the dispatcher's OBS stage."""

    def __init__(self, live: Live) -> None:
        self.live = live
        cfg = live.config.obs
        self.link = ObsLink(
            host=cfg.host, port=cfg.port, password=cfg.password, studio_mode=cfg.studio_mode,
            on_status=lambda status: live.set_status("obs", status.to_dict()),
            on_scene_changed=self._scene_chosen,
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self.lang = language(live.config.language)

    async def start(self) -> None:
        if self.live.config.obs.switch_scenes:
            self.link.want_scene(wanted_scene(self.live.dispatcher.state, self.live.config))
        await self.link.start()

    async def stop(self) -> None:
        await self.link.stop()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2)

    def on_change(self, change: Change) -> None:
        config = self.live.config
        if config.obs.switch_scenes:
            self.link.want_scene(wanted_scene(change.state, config))
        self.link.emit_custom_event(summary(change.state, config, change.rev))
        for name in chapters(change, config, self.lang):
            self.link.add_chapter(name)

    def _scene_chosen(self, scene: str) -> None:
        # OBS's own hotkeys and clicks: one Follow command, so resuming from the break and
        # moving to the step is one revision with one scene wish.
        config = self.live.config
        step_id = step_for_scene(config, scene)
        if not config.obs.follow or step_id is None:
            return
        index = next(i for i, st in enumerate(config.steps) if st.id == step_id)
        task = asyncio.get_running_loop().create_task(self._follow(core.Follow(index), scene))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _follow(self, command: core.Follow, scene: str) -> None:
        try:
            await self.live.dispatch(command, "obs")
        except core.Refused as refusal:
            log.info("follow to scene %r not applied: %s (%s)", scene, refusal, refusal.name)
        except NotSaved as exc:
            log.warning("follow to scene %r: %s", scene, exc)


class ObsPart:
    """The OBS door as the service holds it: started from config.yaml's obs section, and started
    again when the setup page saves a new one."""

    def __init__(self, live: Live) -> None:
        self.live = live
        self.door: ObsDoor | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        async with self._lock:
            await self._start()

    async def stop(self) -> None:
        async with self._lock:
            await self._stop()

    async def restart(self) -> None:
        async with self._lock:
            await self._stop()
            await self._start()

    async def _start(self) -> None:
        if not self.live.config.obs.enabled:
            off = Said(N_("obs.enabled is false in config.yaml"))
            self.live.set_status("obs", {"state": "off", "reason": off, "words": off.words()})
            return
        self.door = ObsDoor(self.live)
        self.live.dispatcher.stages.obs = self.door.on_change
        await self.door.start()

    async def _stop(self) -> None:
        door, self.door = self.door, None
        if door is not None:
            self.live.dispatcher.stages.obs = None
            await door.stop()
