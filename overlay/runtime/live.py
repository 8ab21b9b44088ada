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
from ..core import undo, views
from ..core.settings import Config
from ..i18n import N_, Said
from .dispatcher import Change, Dispatcher, NotSaved
from .hub import Frame, Hub
from .patch import diff


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
        self._reset()

    def _reset(self) -> None:
        """Pages start again from the committed state (at start, and after a change not saved)."""
        d = self.dispatcher
        self.status_rev += 1  # a (rev, status_rev) a page was shown is never used again for another
        self._shown: tuple[core.State, int, undo.History] = (d.state, d.rev, d.history)  # pages have it
        self._snap = self._snapshot(*self._shown, d.clock())  # the last one pushed: patches start here
        self._pushed = (d.rev, self.status_rev)
        self._text: str | None = None

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
            if exc.shown or exc.went_back:
                # Pages were shown a change that is not saved, or a rev the file no longer has:
                # they start over from what is saved, after this call's own answer is sent.
                self._reset()
                self._closing = asyncio.ensure_future(self.hub.close_all(RELOADED, b"change not saved"))
            elif exc.reloaded:  # what the file holds now, from what pages were last sent
                d = self.dispatcher
                self._push(d.state, d.rev, d.history, d.clock())
            raise

    def snapshot(self, now: datetime) -> dict[str, Any]:
        """The committed state: what /api/state and chat answer with."""
        d = self.dispatcher
        return self._snapshot(d.state, d.rev, d.history, now)

    def page_snapshot(self, now: datetime) -> dict[str, Any]:
        """What pages are shown: a change is on them while its commit is still under way."""
        return self._snapshot(*self._shown, now)

    def _snapshot(self, state: core.State, rev: int, history: undo.History, now: datetime) -> dict[str, Any]:
        snap = views.snapshot(state, self.config, now, rev, history)
        snap["status_rev"] = self.status_rev
        snap.update(self.status)
        return snap

    def render(self, now: datetime) -> str:
        return _json(self.snapshot(now))

    def first_frame(self, now: datetime) -> Frame:
        """What a client gets on connect: the state as of now (its clocks anchor on it), in full."""
        snap = self.page_snapshot(now)
        return Frame((snap["rev"], snap["status_rev"]), _json(snap), pushed=False)

    def _on_change(self, change: Change) -> None:
        self._push(change.state, change.rev, change.history, change.at)

    def republish(self) -> None:
        """A fresh snapshot with no command: figures that age (pacing) move on."""
        self._push(*self._shown, self.dispatcher.clock())

    def _push(self, state: core.State, rev: int, history: undo.History, now: datetime) -> None:
        """The new snapshot to every client: each push has its own (rev, status_rev), so a patch
        names exactly the snapshot it applies to."""
        base = self._pushed
        if rev == base[0]:
            self.status_rev += 1
        self._shown = (state, rev, history)
        snap = self._snapshot(state, rev, history, now)
        key = (rev, self.status_rev)
        patch = _json({"type": "patch", "rev": rev, "status_rev": self.status_rev, "base": list(base),
                       "ops": diff(self._snap, snap)})
        self._snap, self._pushed, self._text = snap, key, None
        self.hub.publish(Frame(key, lambda: self.text if self._snap is snap else _json(snap), base, patch))

    @property
    def text(self) -> str:
        """The last snapshot pushed, as JSON text (what a command's HTTP answer carries)."""
        if self._text is None:
            self._text = _json(self._snap)
        return self._text

    def set_status(self, name: str, value: dict[str, Any]) -> None:
        """Publish a change of an outside part's state (OBS link, hotkeys)."""
        if self.status.get(name) == value:
            return
        self.status[name] = value
        self.republish()


def _json(value: Any) -> str:
    """Compact, and UTF-8 as it is: a note in Italian or Japanese is not six bytes a letter."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if not text.isascii():  # a lone surrogate (a title from YAML) goes out escaped, as JSON allows
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


RELOADED = WSCloseCode.SERVICE_RESTART  # pages reconnect and take the snapshot they are given
LIVE = web.AppKey("live", Live)
