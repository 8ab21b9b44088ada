"""The Twitch link's HTTP side: the dock's Connect Twitch, and the CLI's word that the login changed.

Both are commands in the security sense: same origin or the token, like POST /api/commands.
"""

from __future__ import annotations

from aiohttp import web

from ...runtime.live import LIVE
from ...runtime.security import command_denied, error
from .auth import TwitchError
from .door import TwitchDoor

TWITCH = web.AppKey("twitch", TwitchDoor)


async def begin_login(request: web.Request) -> web.Response:
    """Starts a device-code login; answers with the code and the address to show the streamer."""
    denied = command_denied(request, request.app[LIVE].config.server)
    if denied is not None:
        return denied
    door = request.app.get(TWITCH)
    if door is None or not door.config.enabled:
        return error(409, "twitch.enabled is false in config.yaml")
    try:
        code = await door.begin_login()
    except TwitchError as exc:
        return error(502, str(exc))
    return web.json_response({"user_code": code.user_code, "verification_uri": code.verification_uri,
                              "expires_in": code.expires_in})


async def login_changed(request: web.Request) -> web.Response:
    """`study-overlay twitch login` and `logout` say so here: the service reads the login again."""
    denied = command_denied(request, request.app[LIVE].config.server)
    if denied is not None:
        return denied
    door = request.app.get(TWITCH)
    if door is not None:
        door.nudge()
    return web.json_response({"ok": True})
