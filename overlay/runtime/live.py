"""The server-owned state as clients see it: the snapshot text, and the outside parts' status.

`rev` counts committed commands only. A change of an outside part (OBS link, hotkeys) or a
refresh of ageing figures is pushed with the same `rev` and its own `status_rev`, so a client
can tell a new command from a status change and order both.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

from aiohttp import WSCloseCode, web

from ..core import session as core
from ..core import views
from ..core.settings import Config
from ..i18n import N_, Said
from .dispatcher import Change, Dispatcher, NotSaved
from .hub import Hub


class Live:
    def __init__(self, dispatcher: Dispatcher, hub: Hub) -> None:
        self.dispatcher = dispatcher
        self.hub = hub
        obs_off, not_started = Said(N_("obs.enabled is false in config.yaml")), Said(N_("not started"))
        twitch_off = Said(N_("twitch.enabled is false in config.yaml"))
        self.status: dict[str, dict[str, Any]] = {
            "obs": {"state": "off", "reason": obs_off, "words": obs_off.words()},
            "hotkeys": {"state": "off", "reason": not_started, "words": not_started.words(), "confirm": None},
            "twitch": {"state": "off", "reason": twitch_off, "words": twitch_off.words(), "login": None},
        }
        self.status_rev = 0
        self._closing: asyncio.Future[None] | None = None
        dispatcher.stages.pages = self._on_change
        self.text = self.render(dispatcher.clock())

    @property
    def config(self) -> Config:
        """The config in use: the dispatcher's, which the setup page can replace while it runs."""
        return self.dispatcher.config

    async def reconfigure(self, config: Config) -> None:
        """Take up an edited config; pages get the new titles and targets at once. Raises NotSaved."""
        await self.dispatcher.reconfigure(config)

    async def dispatch(self, command: core.Command, door: str) -> Change:
        """Every door's way in. Raises core.Refused or NotSaved; nothing changed then."""
        try:
            return await self.dispatcher.dispatch(command, door)
        except NotSaved as exc:
            if exc.went_back:  # pages keep the higher rev they have: have them start over
                self.text = self.render(self.dispatcher.clock())
                # After this call's own answer is sent, so the socket that asked gets it.
                self._closing = asyncio.ensure_future(
                    self.hub.close_all(RELOADED, b"data file replaced"))
            elif exc.reloaded:
                self.republish()
            raise

    def snapshot(self, now: datetime) -> dict[str, Any]:
        d = self.dispatcher
        snap = views.snapshot(d.state, self.config, now, d.rev, d.history)
        snap["status_rev"] = self.status_rev
        snap.update(self.status)
        return snap

    def render(self, now: datetime) -> str:
        return json.dumps(self.snapshot(now), separators=(",", ":"))

    def _on_change(self, change: Change) -> None:
        self.text = self.render(change.at)
        self.hub.publish(self.text)

    def republish(self) -> None:
        """A fresh snapshot with no command: figures that age (pacing) move on."""
        self.text = self.render(self.dispatcher.clock())
        self.hub.publish(self.text)

    def set_status(self, name: str, value: dict[str, Any]) -> None:
        """Publish a change of an outside part's state (OBS link, hotkeys)."""
        if self.status.get(name) == value:
            return
        self.status[name] = value
        self.status_rev += 1
        self.republish()


RELOADED = WSCloseCode.SERVICE_RESTART  # pages reconnect and take the snapshot they are given
LIVE = web.AppKey("live", Live)
