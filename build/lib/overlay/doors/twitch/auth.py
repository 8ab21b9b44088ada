"""Twitch login with the Device Code Grant Flow: a Public application, a client id, no secret.

Twitch's answers are read as its documentation gives them: a 400 whose `message` says
`authorization_pending` or `slow_down` while the streamer has not approved yet, `invalid device
code` once the code is spent or expired (also, briefly, just after it was issued: treated as
pending while it has time left), and a refresh token that works once (the answer carries the
next one).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from ...core.chat import TwitchUrls
from ...i18n import N_, Said
from ...storage.tokens import Login

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
TIMEOUT = aiohttp.ClientTimeout(total=15)


class TwitchError(Exception):
    """Twitch said no, or could not be reached; str() is meant for the streamer."""


class LoginFailed(TwitchError):
    """The device code was denied or expired: exit 1, log in again."""


class LoginLost(TwitchError):
    """The refresh token no longer works: "Reconnect Twitch"."""


@dataclass(frozen=True)
class DeviceCode:
    user_code: str
    verification_uri: str
    expires_in: float
    interval: float
    device_code: str = field(repr=False)


async def _form(session: aiohttp.ClientSession, url: str, data: dict[str, str]) -> tuple[int, dict[str, Any]]:
    try:
        async with session.post(url, data=data, timeout=TIMEOUT) as answer:
            try:
                body = await answer.json(content_type=None)
            except ValueError:
                body = {}
            return answer.status, body if isinstance(body, dict) else {}
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise TwitchError(Said(N_("Twitch cannot be reached (%(error)s)"),
                               error=f"{type(exc).__name__}: {exc}")) from None


def _message(body: dict[str, Any]) -> str:
    return str(body.get("message") or body.get("error") or "no reason given")


async def start(session: aiohttp.ClientSession, urls: TwitchUrls, client_id: str,
                scopes: Sequence[str]) -> DeviceCode:
    status, body = await _form(session, f"{urls.auth}/device",
                               {"client_id": client_id, "scopes": " ".join(scopes)})
    if status != 200:
        hint = " (is twitch.client_id the Client ID of a Public application?)" if status in (400, 401) else ""
        raise TwitchError(Said(N_("Twitch refused to start a login: %(reason)s"),
                               reason=_message(body) + hint))
    try:
        return DeviceCode(user_code=str(body["user_code"]), verification_uri=str(body["verification_uri"]),
                          expires_in=float(body["expires_in"]), interval=float(body.get("interval", 5)),
                          device_code=str(body["device_code"]))
    except (KeyError, TypeError, ValueError):
        raise TwitchError(Said(N_("Twitch's answer to a login lacks the code"))) from None


async def wait_for_approval(
    session: aiohttp.ClientSession, urls: TwitchUrls, client_id: str, scopes: Sequence[str],
    code: DeviceCode, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Login:
    """Polls at the interval Twitch gives (longer after slow_down) until approved; LoginFailed when
    denied or expired."""
    interval, ends = code.interval, clock() + code.expires_in
    while True:
        await sleep(interval)
        status, body = await _form(session, f"{urls.auth}/token", {
            "client_id": client_id, "scopes": " ".join(scopes), "device_code": code.device_code,
            "grant_type": DEVICE_GRANT})
        if status == 200:
            return await login_from(session, urls, body)
        message = _message(body).lower()
        if "pending" in message:
            continue
        if "slow_down" in message or "slow down" in message:
            interval += 5
            continue
        if "invalid device code" in message and clock() < ends - interval:
            continue  # Twitch may not know a fresh code yet; an old one has run out of time
        if "invalid device code" in message or "expired" in message:
            raise LoginFailed(Said(N_("the code expired before it was approved; log in again")))
        if "denied" in message or "declined" in message:
            raise LoginFailed(Said(N_("the login was declined on Twitch")))
        raise LoginFailed(Said(N_("Twitch refused the login: %(reason)s"), reason=_message(body)))


async def refresh(session: aiohttp.ClientSession, urls: TwitchUrls, client_id: str, login: Login) -> Login:
    status, body = await _form(session, f"{urls.auth}/token", {
        "client_id": client_id, "grant_type": "refresh_token", "refresh_token": login.refresh_token})
    if status == 200:
        return _tokens(body, login.user_id, login.login)
    if status in (400, 401):
        raise LoginLost(Said(N_("Twitch no longer accepts this login (%(reason)s): reconnect Twitch"),
                             reason=_message(body)))
    raise TwitchError(Said(N_("Twitch could not refresh the login: %(reason)s"),
                           reason=f"{status} {_message(body)}"))


async def validate(
    session: aiohttp.ClientSession, urls: TwitchUrls, access_token: str
) -> dict[str, Any] | None:
    """Twitch's own view of the token; None when it no longer works (401)."""
    try:
        async with session.get(f"{urls.auth}/validate", headers={"Authorization": f"OAuth {access_token}"},
                               timeout=TIMEOUT) as answer:
            if answer.status == 401:
                return None
            body = await answer.json(content_type=None)
            if answer.status != 200 or not isinstance(body, dict):
                raise TwitchError(Said(N_("Twitch could not check the login: %(reason)s"),
                                       reason=answer.status))
            return body
    except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
        raise TwitchError(Said(N_("Twitch cannot be reached (%(error)s)"),
                               error=type(exc).__name__)) from None


async def revoke(session: aiohttp.ClientSession, urls: TwitchUrls, client_id: str, token: str) -> None:
    await _form(session, f"{urls.auth}/revoke", {"client_id": client_id, "token": token})


async def login_from(session: aiohttp.ClientSession, urls: TwitchUrls, body: dict[str, Any]) -> Login:
    """A token answer, with whose login it is (validate names the user)."""
    partial = _tokens(body, "", "")
    who = await validate(session, urls, partial.access_token)
    if who is None:
        raise LoginFailed(Said(N_("Twitch gave a token it then refused")))
    return Login(user_id=str(who["user_id"]), login=str(who["login"]), scopes=partial.scopes,
                 expires_at=partial.expires_at, access_token=partial.access_token,
                 refresh_token=partial.refresh_token)


def _tokens(body: dict[str, Any], user_id: str, login: str) -> Login:
    try:
        scopes = body.get("scope") or []
        scopes = scopes if isinstance(scopes, list) else [scopes]
        return Login(user_id=user_id, login=login, scopes=tuple(scopes),
                     expires_at=datetime.now(UTC) + timedelta(seconds=float(body.get("expires_in", 0))),
                     access_token=str(body["access_token"]), refresh_token=str(body["refresh_token"]))
    except (KeyError, TypeError, ValueError):
        raise TwitchError(Said(N_("Twitch's token answer is not one this service can read"))) from None
