"""Helix, Twitch's HTTP API: who the login is, the chat subscription, and sending a reply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from ...core.chat import MESSAGE_MAX, TwitchUrls
from ...i18n import N_, Said
from .auth import TIMEOUT, TwitchError


class Unauthorized(TwitchError):
    """401: the access token no longer works (refresh it once)."""


@dataclass(frozen=True)
class Sent:
    ok: bool
    reason: str = ""  # Twitch's drop reason when not sent


class Helix:
    def __init__(self, session: aiohttp.ClientSession, urls: TwitchUrls, client_id: str) -> None:
        self.session, self.urls, self.client_id = session, urls, client_id

    async def _call(self, method: str, path: str, token: str, body: dict[str, Any] | None = None
                    ) -> tuple[int, dict[str, Any]]:
        headers = {"Client-Id": self.client_id, "Authorization": f"Bearer {token}"}
        try:
            async with self.session.request(method, f"{self.urls.api}{path}", json=body, headers=headers,
                                            timeout=TIMEOUT) as answer:
                try:
                    data = await answer.json(content_type=None)
                except ValueError:
                    data = {}
                if answer.status == 401:
                    raise Unauthorized(str(data.get("message") if isinstance(data, dict) else "") or "401")
                if answer.status == 429:
                    raise TwitchError(Said(N_("Twitch says too many requests; waiting before the next")))
                return answer.status, data if isinstance(data, dict) else {}
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise TwitchError(Said(N_("Twitch cannot be reached (%(error)s)"),
                                   error=type(exc).__name__)) from None

    async def subscribe_chat(self, token: str, session_id: str, broadcaster_id: str, user_id: str) -> None:
        """channel.chat.message on this EventSub session; a 409 means it is there already."""
        status, data = await self._call("POST", "/eventsub/subscriptions", token, {
            "type": "channel.chat.message", "version": "1",
            "condition": {"broadcaster_user_id": broadcaster_id, "user_id": user_id},
            "transport": {"method": "websocket", "session_id": session_id},
        })
        if status not in (202, 409):
            raise TwitchError(Said(N_("Twitch refused the chat subscription: %(reason)s"),
                                   reason=data.get("message") or status))

    async def send(self, token: str, broadcaster_id: str, sender_id: str, text: str,
                   reply_to: str | None = None) -> Sent:
        body: dict[str, Any] = {"broadcaster_id": broadcaster_id, "sender_id": sender_id,
                                "message": text[:MESSAGE_MAX]}
        if reply_to:
            body["reply_parent_message_id"] = reply_to
        status, data = await self._call("POST", "/chat/messages", token, body)
        if status != 200:
            return Sent(False, str(data.get("message") or status))
        first = (data.get("data") or [{}])[0]
        if first.get("is_sent"):
            return Sent(True)
        drop = first.get("drop_reason") or {}
        return Sent(False, f"{drop.get('code', '?')}: {drop.get('message', '')}")

    async def create_marker(self, token: str, user_id: str, description: str) -> bool:
        """Create Stream Marker; False when the stream is not live (Twitch answers 404)."""
        status, data = await self._call("POST", "/streams/markers", token,
                                        {"user_id": user_id, "description": description[:140]})
        if status == 404:
            return False
        if status != 200:
            raise TwitchError(Said(N_("Twitch refused the stream marker: %(reason)s"),
                                   reason=data.get("message") or status))
        return True
