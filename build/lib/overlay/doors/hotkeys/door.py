"""Global hotkeys as a door: each bound combination dispatches its typed command."""

from __future__ import annotations

import logging

from ...core import session as core
from ...runtime.dispatcher import NotSaved
from ...runtime.live import Live
from .listener import HotkeyService

log = logging.getLogger("study_overlay")


def hotkey_service(live: Live) -> HotkeyService:
    settings = live.config.hotkeys

    async def submit(command: core.Command) -> None:
        try:
            await live.dispatch(command, "hotkey")
        except core.Refused as refusal:
            log.warning("hotkey %s refused: %s", command.name, refusal)
        except NotSaved as exc:
            log.warning("hotkey %s: %s", command.name, exc)

    return HotkeyService(
        settings.bindings, submit, lambda status: live.set_status("hotkeys", status.to_dict()),
        cooldown=settings.cooldown.total_seconds(),
        confirm_window=settings.confirm_window.total_seconds(),
    )
