"""Reading chat over EventSub WebSocket, as Twitch documents it.

- Subscribe within the welcome window (10 s) or Twitch closes with 4003; send nothing (4001).
- No message (not even a keepalive) for keepalive_timeout_seconds and a little more: the link is
  dead; start over.
- session_reconnect: connect to the URL given; the subscriptions move with the session. Messages
  still arriving on the old socket are read until Twitch closes it, so none is lost; one that
  comes twice is dropped by its message id.
- revocation: the subscription is gone (the app's access was revoked): the caller decides.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from ...i18n import N_, Said
from .auth import TwitchError

log = logging.getLogger("study_overlay")
KEEPALIVE_S = 30  # asked of Twitch (10 to 600)
GRACE_S = 5.0  # beyond the keepalive, a link is dead
WELCOME_S = 10.0
SEEN_MAX = 2000  # message ids remembered to drop repeats

CLOSE_REASONS = {
    4000: "Twitch had an internal error", 4001: "the client sent data Twitch does not take",
    4002: "a ping was not answered", 4003: "nothing was subscribed in time",
    4004: "the reconnect took too long", 4005: "the network timed out", 4006: "a network error",
    4007: "the reconnect address was not valid",
}


class Revoked(TwitchError):
    """Twitch revoked the chat subscription (`status`: authorization_revoked, user_removed, ...)."""


@dataclass(frozen=True)
class ChatMessage:
    message_id: str  # the chat message's own id (a reply points at it)
    text: str
    chatter_login: str
    badges: tuple[str, ...]


Subscribe = Callable[[str], Awaitable[None]]  # with the session id
OnChat = Callable[[ChatMessage], Awaitable[None]]
OnLive = Callable[[], None]  # subscribed: the link is up


class EventSub:
    def __init__(self, http: aiohttp.ClientSession, url: str, subscribe: Subscribe, on_chat: OnChat,
                 on_live: OnLive) -> None:
        self.http, self.url = http, url
        self.subscribe, self.on_chat, self.on_live = subscribe, on_chat, on_live
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._queue: asyncio.Queue[tuple[aiohttp.ClientWebSocketResponse, dict[str, Any] | None]] = \
            asyncio.Queue()
        self._readers: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """One session until it ends; raises TwitchError (with the reason) when it does."""
        first = await self._connect(f"{self.url}?keepalive_timeout_seconds={KEEPALIVE_S}")
        try:
            keepalive = await self._welcome(first)
            await self.subscribe(self._session_id)
            self.on_live()
            await self._read(keepalive)
        finally:
            for task in self._readers:
                task.cancel()
            await asyncio.gather(*self._readers, return_exceptions=True)
            self._readers.clear()

    async def _connect(self, url: str) -> aiohttp.ClientWebSocketResponse:
        try:
            return await self.http.ws_connect(url, timeout=aiohttp.ClientWSTimeout(ws_close=5))
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise TwitchError(Said(N_("Twitch chat cannot be reached (%(error)s)"),
                                   error=type(exc).__name__)) from None

    async def _welcome(self, ws: aiohttp.ClientWebSocketResponse) -> float:
        """Reads the welcome; starts the socket's reader for what follows."""
        try:
            message = await asyncio.wait_for(ws.receive(), WELCOME_S)
        except TimeoutError:
            await ws.close()
            raise TwitchError(Said(N_("Twitch chat sent no welcome"))) from None
        data = _json(message)
        if data is None or data.get("metadata", {}).get("message_type") != "session_welcome":
            await ws.close()
            raise TwitchError(Said(N_("Twitch chat did not welcome the connection (%(reason)s)"),
                                    reason=_closed(ws, message)))
        session = data["payload"]["session"]
        self._session_id = str(session["id"])
        task = asyncio.ensure_future(self._reader(ws))
        self._readers.add(task)
        task.add_done_callback(self._readers.discard)
        return float(session.get("keepalive_timeout_seconds") or KEEPALIVE_S)

    async def _reader(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while True:
            message = await ws.receive()
            data = _json(message)
            if data is None and message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                                 aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.ERROR):
                await self._queue.put((ws, None))
                return
            if data is not None:
                await self._queue.put((ws, data))

    async def _read(self, keepalive: float) -> None:
        current: aiohttp.ClientWebSocketResponse | None = None
        sockets: set[aiohttp.ClientWebSocketResponse] = set()
        while True:
            try:
                ws, data = await asyncio.wait_for(self._queue.get(), keepalive + GRACE_S)
            except TimeoutError:
                raise TwitchError(Said(N_("Twitch chat was silent for over %(seconds)s s"),
                                       seconds=f"{keepalive + GRACE_S:.0f}")) from None
            sockets.add(ws)
            current = current or ws
            if data is None:  # a socket closed
                sockets.discard(ws)
                if ws is current:
                    code = ws.close_code or 0
                    raise TwitchError(Said(N_("Twitch chat closed the connection (%(code)s: %(reason)s)"),
                                           code=code, reason=CLOSE_REASONS.get(code, "no reason given")))
                continue  # the old one after a reconnect: expected
            kind = data.get("metadata", {}).get("message_type")
            if kind == "session_keepalive":
                continue
            if kind == "notification":
                await self._notification(data)
            elif kind == "session_reconnect":
                url = data["payload"]["session"]["reconnect_url"]
                new = await self._connect(url)
                keepalive = await self._welcome(new)
                # Twitch now sends to the new socket only; what the old one sent is queued ahead.
                old, current = current, new
                if old is not None and old is not new:
                    await old.close()
            elif kind == "revocation":
                status = data["payload"]["subscription"].get("status", "revoked")
                raise Revoked(Said(N_("Twitch revoked the chat subscription (%(status)s)"), status=status))

    async def _notification(self, data: dict[str, Any]) -> None:
        message_id = data["metadata"]["message_id"]
        if message_id in self._seen:
            return
        self._seen[message_id] = None
        while len(self._seen) > SEEN_MAX:
            self._seen.popitem(last=False)
        if data["metadata"].get("subscription_type") != "channel.chat.message":
            return
        event = data["payload"]["event"]
        chat_id = f"chat:{event.get('message_id')}"  # the same chat message twice: delivered again
        if chat_id in self._seen:
            return
        self._seen[chat_id] = None
        try:
            chat = ChatMessage(message_id=str(event["message_id"]), text=str(event["message"]["text"]),
                               chatter_login=str(event["chatter_user_login"]),
                               badges=tuple(str(b["set_id"]) for b in event.get("badges") or ()))
        except (KeyError, TypeError):
            log.warning("twitch: a chat message this service cannot read; skipped")
            return
        try:
            await self.on_chat(chat)
        except Exception:
            log.exception("twitch: handling a chat message failed")


def _json(message: aiohttp.WSMessage) -> dict[str, Any] | None:
    if message.type != aiohttp.WSMsgType.TEXT:
        return None
    try:
        data = json.loads(message.data)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _closed(ws: aiohttp.ClientWebSocketResponse, message: aiohttp.WSMessage) -> str:
    code = ws.close_code or (message.data if message.type == aiohttp.WSMsgType.CLOSE else 0)
    return f"{code}: {CLOSE_REASONS.get(int(code or 0), message.type.name.lower())}"
