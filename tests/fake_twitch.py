"""A faithful Twitch on loopback, built from Twitch's documentation (and its documented examples),
for tests: the real one cannot be reached from here.

- id.twitch.tv/oauth2: /device, /token (device grant: authorization_pending until approved,
  slow_down when polled faster than the interval, `invalid device code` once expired or spent,
  authorization_denied; refresh grant: a refresh token works once, the answer carries the next
  one), /validate, /revoke.
- api.twitch.tv/helix: /users, /eventsub/subscriptions (202; 409 for a duplicate; 400 for a
  WebSocket session that does not exist), /chat/messages (a sender may send 20 messages per
  30 s; past that `is_sent: false` with a drop reason).
- eventsub.wss.twitch.tv/ws: session_welcome, session_keepalive after keepalive_timeout_seconds
  of silence, notification, session_reconnect to a new URL (the subscriptions move with the
  session; the old socket is closed once the new one is welcomed), revocation; close 4003 when
  nothing is subscribed within the welcome window, 4001 when the client sends anything.

Every payload is built as the documentation's examples show it; tests/test_fake_twitch.py checks
them against TwitchIO's EventSub models, so the shapes are not our own guess.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

from .threaded import ThreadedApp

CHAT_LIMIT, CHAT_WINDOW = 20, 30.0  # messages per sender per 30 s (not a moderator of the channel)
WELCOME_WINDOW = 10.0  # seconds to subscribe after the welcome


def now_iso() -> str:
    """RFC 3339 with nanoseconds, as Twitch writes them: 2023-07-19T14:56:51.634234626Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


@dataclass
class Device:
    device_code: str
    user_code: str
    client_id: str
    scopes: list[str]
    issued: float
    expires_in: int
    interval: int
    state: str = "pending"  # pending, approved, denied, spent
    last_poll: float = 0.0
    early_invalid: int = 0  # answer `invalid device code` this many times first (Twitch lag)


@dataclass
class User:
    id: str
    login: str
    display_name: str


@dataclass
class Session:
    id: str
    ws: web.WebSocketResponse
    keepalive: int
    welcomed: float
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False
    last: dict[str, Any] | None = None  # the last notification sent


class FakeTwitch(ThreadedApp):
    thread_name = "fake-twitch"

    def __init__(self, client_id: str = "fakeclientid0000000000000000aa") -> None:
        super().__init__()
        self.client_id = client_id
        self.user = User("141981764", "studystreamer", "StudyStreamer")
        self.devices: dict[str, Device] = {}
        self.access: dict[str, tuple[str, float, list[str]]] = {}  # token -> (user id, expires, scopes)
        self.refresh_tokens: dict[str, list[str]] = {}  # unspent refresh token -> scopes
        self.spent: set[str] = set()
        self.sessions: dict[str, Session] = {}
        self.sockets: list[web.WebSocketResponse] = []
        self.sent: list[dict[str, Any]] = []  # chat messages the app sent (is_sent true)
        self.dropped: list[dict[str, Any]] = []
        self.sends: deque[float] = deque()
        self.notifications: list[str] = []  # message ids sent
        self.requests: list[tuple[str, str]] = []  # (method, path) of every HTTP request
        self.closes: list[int] = []  # close codes the fake sent
        self.token_seconds = 14400
        self.welcome_window = WELCOME_WINDOW
        self.reconnect_grace = 30.0
        self.device_interval = 5  # what Twitch gives; a test may ask for less to run quicker
        self.device_expires_in = 1800
        self.early_invalid = 0  # `invalid device code` this many times for a new code first
        self.min_poll_gap: float | None = None  # slow_down below this (default: the interval)
        self.live = False  # the streamer's stream is on air (markers need it)
        self.markers: list[dict[str, Any]] = []
        self.silent = False  # stop keepalives (a dead link)

    # --- addresses, for config.yaml ---------------------------------------------------------

    @property
    def urls(self) -> dict[str, str]:
        return {"auth": f"{self.url}/oauth2", "api": f"{self.url}/helix",
                "eventsub": f"ws://127.0.0.1:{self.port}/ws"}

    def config_yaml(self) -> str:
        u = self.urls
        return (f"twitch:\n  enabled: true\n  client_id: {self.client_id}\n"
                f"  urls: {{auth: '{u['auth']}', api: '{u['api']}', eventsub: '{u['eventsub']}'}}\n")

    # --- running ----------------------------------------------------------------------------

    def build(self) -> web.Application:
        app = web.Application()
        app.add_routes([
            web.post("/oauth2/device", self._device), web.post("/oauth2/token", self._token),
            web.get("/oauth2/validate", self._validate), web.post("/oauth2/revoke", self._revoke),
            web.get("/helix/users", self._users), web.post("/helix/eventsub/subscriptions", self._subscribe),
            web.get("/helix/eventsub/subscriptions", self._subscriptions),
            web.post("/helix/chat/messages", self._chat_message), web.get("/ws", self._ws),
            web.post("/helix/streams/markers", self._marker),
        ])
        return app

    async def closing(self) -> None:
        for ws in list(self.sockets):
            await ws.close()

    # --- what a test does on "Twitch's side" ------------------------------------------------

    def approve(self, user_code: str | None = None) -> None:
        self._device_by_code(user_code).state = "approved"

    def deny(self, user_code: str | None = None) -> None:
        self._device_by_code(user_code).state = "denied"

    def _device_by_code(self, user_code: str | None) -> Device:
        found = [d for d in self.devices.values() if user_code in (None, d.user_code)]
        assert found, f"no device code {user_code!r}"
        return found[-1]

    def expire_access_tokens(self) -> None:
        self.access.clear()

    def chat(self, text: str, *, login: str = "viewer1", badges: tuple[str, ...] = (),
             message_id: str | None = None) -> str:
        """A chat message in the streamer's channel, to every session subscribed to it."""
        message_id = message_id or str(uuid.uuid4())
        return self.call(lambda: self._notify(text, login, badges, message_id))

    def redeliver(self) -> None:
        """The last notification again, as it was (Twitch's delivery is at least once)."""
        self.call(self._redeliver)

    def reconnect(self) -> None:
        self.call(self._reconnect)

    def revoke(self, status: str = "authorization_revoked") -> None:
        self.call(lambda: self._revocation(status))

    def drop(self, code: int = 4000) -> None:
        """Close every socket as Twitch does on trouble (4000: internal server error)."""
        self.call(lambda: self._close_all(code))

    def live_sessions(self) -> list[Session]:
        return [s for s in self.sessions.values() if not s.closed]

    # --- oauth2 -----------------------------------------------------------------------------

    @staticmethod
    def _error(status: int, message: str) -> web.Response:
        return web.json_response({"status": status, "message": message}, status=status)

    async def _form(self, request: web.Request) -> dict[str, str]:
        self.requests.append((request.method, request.path))
        form = {k: str(v) for k, v in request.query.items()}  # TwitchIO sends its parameters so
        form.update({k: str(v) for k, v in (await request.post()).items()})  # others a form body
        if "scope" in form and "scopes" not in form:
            form["scopes"] = form["scope"]
        return form

    async def _device(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        if form.get("client_id") != self.client_id:
            return self._error(400, "invalid client")
        user_code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(8))
        device = Device(secrets.token_hex(20), user_code, self.client_id, form.get("scopes", "").split(),
                        time.monotonic(), self.device_expires_in, self.device_interval,
                        early_invalid=self.early_invalid)
        self.devices[device.device_code] = device
        return web.json_response({
            "device_code": device.device_code, "expires_in": device.expires_in, "interval": device.interval,
            "user_code": user_code,
            "verification_uri": f"https://www.twitch.tv/activate?public=true&device-code={user_code}",
        })

    def _issue(self, user_id: str, scopes: list[str]) -> dict[str, Any]:
        access, refresh = secrets.token_hex(15), secrets.token_hex(25)
        self.access[access] = (user_id, time.monotonic() + self.token_seconds, scopes)
        self.refresh_tokens[refresh] = scopes
        return {"access_token": access, "expires_in": self.token_seconds, "refresh_token": refresh,
                "scope": scopes, "token_type": "bearer"}

    async def _token(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        if form.get("client_id") != self.client_id:
            return self._error(400, "invalid client")
        grant = form.get("grant_type")
        if grant == "refresh_token":
            token = form.get("refresh_token", "")
            scopes = self.refresh_tokens.pop(token, None)
            if scopes is None:  # unknown, or spent already: refresh tokens are single-use
                return self._error(400, "Invalid refresh token")
            self.spent.add(token)
            return web.json_response(self._issue(self.user.id, scopes))
        if grant != "urn:ietf:params:oauth:grant-type:device_code":
            return self._error(400, "unsupported grant type")
        device = self.devices.get(form.get("device_code", ""))
        now = time.monotonic()
        if device is None or device.state == "spent" or now > device.issued + device.expires_in:
            return self._error(400, "invalid device code")
        if device.early_invalid > 0:
            device.early_invalid -= 1
            return self._error(400, "invalid device code")
        gap = self.min_poll_gap if self.min_poll_gap is not None else device.interval - 0.05
        too_soon = now - device.last_poll < gap
        device.last_poll = now
        if device.state == "denied":
            device.state = "spent"
            # Undocumented: what Twitch answers a declined code is not written anywhere; this is
            # the OAuth word for it (RFC 8628), which the client must show as a refusal.
            return self._error(400, "access_denied")
        if too_soon:
            return self._error(400, "slow_down")
        if device.state == "pending":
            return self._error(400, "authorization_pending")
        device.state = "spent"
        return web.json_response(self._issue(self.user.id, device.scopes))

    def _who(self, request: web.Request, scheme: str) -> tuple[str, list[str]] | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith(scheme + " "):
            return None
        found = self.access.get(header[len(scheme) + 1:])
        if found is None or found[1] < time.monotonic():
            return None
        return found[0], found[2]

    async def _validate(self, request: web.Request) -> web.Response:
        self.requests.append((request.method, request.path))
        who = self._who(request, "OAuth")
        if who is None:
            return self._error(401, "invalid access token")
        token = request.headers["Authorization"].split(" ", 1)[1]
        left = int(self.access[token][1] - time.monotonic())
        return web.json_response({"client_id": self.client_id, "login": self.user.login, "scopes": who[1],
                                  "user_id": who[0], "expires_in": left})

    async def _revoke(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        self.access.pop(form.get("token", ""), None)
        return web.Response(status=200)

    # --- helix ------------------------------------------------------------------------------

    def _helix_auth(self, request: web.Request) -> tuple[str, list[str]] | web.Response:
        self.requests.append((request.method, request.path))
        if request.headers.get("Client-Id") != self.client_id:
            return web.json_response({"error": "Unauthorized", "status": 401,
                                      "message": "Client ID and OAuth token do not match"}, status=401)
        who = self._who(request, "Bearer")
        if who is None:
            return web.json_response({"error": "Unauthorized", "status": 401,
                                      "message": "Invalid OAuth token"}, status=401)
        return who

    async def _users(self, request: web.Request) -> web.Response:
        who = self._helix_auth(request)
        if isinstance(who, web.Response):
            return who
        u = self.user
        return web.json_response({"data": [{
            "id": u.id, "login": u.login, "display_name": u.display_name, "type": "",
            "broadcaster_type": "", "description": "", "profile_image_url": "", "offline_image_url": "",
            "view_count": 0, "created_at": "2016-12-14T20:32:28Z"}]})

    async def _subscribe(self, request: web.Request) -> web.Response:
        who = self._helix_auth(request)
        if isinstance(who, web.Response):
            return who
        body = await request.json()
        transport, condition = body.get("transport", {}), body.get("condition", {})
        if body.get("type") != "channel.chat.message" or body.get("version") != "1":
            return web.json_response({"error": "Bad Request", "status": 400,
                                      "message": "unsupported subscription type"}, status=400)
        if "user:read:chat" not in who[1] or condition.get("user_id") != who[0]:
            return web.json_response({"error": "Forbidden", "status": 403,
                                      "message": "subscription missing proper authorization"}, status=403)
        session = self.sessions.get(transport.get("session_id", ""))
        if transport.get("method") != "websocket" or session is None or session.closed:
            return web.json_response({"error": "Bad Request", "status": 400,
                                      "message": "websocket transport session does not exist or has already "
                                                 "disconnected"}, status=400)
        for s in self.sessions.values():
            for sub in s.subscriptions:
                if not s.closed and sub["condition"] == condition and sub["type"] == body["type"]:
                    return web.json_response({"error": "Conflict", "status": 409,
                                              "message": "subscription already exists"}, status=409)
        sub = {"id": str(uuid.uuid4()), "status": "enabled", "type": "channel.chat.message", "version": "1",
               "condition": {"broadcaster_user_id": str(condition.get("broadcaster_user_id")),
                             "user_id": str(condition.get("user_id"))},
               "created_at": now_iso(), "cost": 0,
               "transport": {"method": "websocket", "session_id": session.id, "connected_at": now_iso()}}
        session.subscriptions.append(sub)
        return web.json_response({"data": [sub], "total": 1, "total_cost": 0, "max_total_cost": 10},
                                 status=202)

    async def _subscriptions(self, request: web.Request) -> web.Response:
        who = self._helix_auth(request)
        if isinstance(who, web.Response):
            return who
        subs = [sub for s in self.sessions.values() if not s.closed for sub in s.subscriptions]
        return web.json_response({"data": subs, "total": len(subs), "total_cost": 0, "max_total_cost": 10,
                                  "pagination": {}})

    async def _chat_message(self, request: web.Request) -> web.Response:
        who = self._helix_auth(request)
        if isinstance(who, web.Response):
            return who
        body = await request.json()
        if "user:write:chat" not in who[1] or body.get("sender_id") != who[0]:
            return web.json_response({"error": "Forbidden", "status": 403,
                                      "message": "missing user:write:chat scope"}, status=403)
        text = body.get("message", "")
        if not isinstance(text, str) or not text or len(text) > 500:
            return web.json_response({"error": "Bad Request", "status": 400,
                                      "message": "The message field must be 1 to 500 characters"}, status=400)
        now = time.monotonic()
        while self.sends and now - self.sends[0] > CHAT_WINDOW:
            self.sends.popleft()
        message_id = str(uuid.uuid4())
        if len(self.sends) >= CHAT_LIMIT:
            self.dropped.append(body)
            return web.json_response({"data": [{"message_id": "", "is_sent": False, "drop_reason": {
                "code": "msg_ratelimit", "message": "Your message was not sent because you are sending "
                                                   "messages too quickly."}}]})
        self.sends.append(now)
        self.sent.append({**body, "message_id": message_id, "at": now})
        return web.json_response({"data": [{"message_id": message_id, "is_sent": True, "drop_reason": None}]})

    async def _marker(self, request: web.Request) -> web.Response:
        """Create Stream Marker: the broadcaster's own token with channel:manage:broadcast."""
        who = self._helix_auth(request)
        if isinstance(who, web.Response):
            return who
        if "channel:manage:broadcast" not in who[1]:
            return web.json_response({"error": "Unauthorized", "status": 401,
                                      "message": "Missing scope: channel:manage:broadcast"}, status=401)
        body = await request.json()
        if body.get("user_id") != who[0] or len(body.get("description", "")) > 140:
            return web.json_response({"error": "Bad Request", "status": 400, "message": "bad request"},
                                     status=400)
        if not self.live:
            return web.json_response({"error": "Not Found", "status": 404,
                                      "message": "user is not live"}, status=404)
        marker = {"id": str(len(self.markers) + 1), "created_at": now_iso(),
                  "description": body.get("description", ""), "position_seconds": 60 * len(self.markers)}
        self.markers.append(marker)
        return web.json_response({"data": [marker]})

    # --- eventsub ---------------------------------------------------------------------------

    @staticmethod
    def _metadata(kind: str, subscription: dict[str, Any] | None = None) -> dict[str, Any]:
        meta = {"message_id": str(uuid.uuid4()), "message_type": kind, "message_timestamp": now_iso()}
        if subscription is not None:
            meta["subscription_type"] = subscription["type"]
            meta["subscription_version"] = subscription["version"]
        return meta

    def _session_payload(
        self, s: Session, status: str = "connected", reconnect_url: str | None = None
    ) -> dict[str, Any]:
        return {"session": {"id": s.id, "status": status, "connected_at": now_iso(),
                            "keepalive_timeout_seconds": s.keepalive if status == "connected" else None,
                            "reconnect_url": reconnect_url, "recovery_url": None}}

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.sockets.append(ws)
        try:  # "an invalid, but numeric value will return the nearest acceptable value"
            keepalive = min(600, max(10, int(request.query.get("keepalive_timeout_seconds", "10"))))
        except ValueError:
            keepalive = 10
        old = self.sessions.get(request.query.get("reconnect", ""))
        session = Session(f"AQoQ{secrets.token_hex(12)}", ws, keepalive, time.monotonic())
        if old is not None:  # a new welcome; the subscriptions move to the new connection
            session.subscriptions = old.subscriptions
            old.closed = True  # nothing more is sent on the old one
            for sub in session.subscriptions:
                sub["transport"]["session_id"] = session.id
        self.sessions[session.id] = session
        await ws.send_json({"metadata": self._metadata("session_welcome"),
                            "payload": self._session_payload(session)})
        if old is not None:  # closed after a grace time if the client does not (4004)
            asyncio.get_running_loop().call_later(self.reconnect_grace, self._grace_over, old)
        watcher = asyncio.ensure_future(self._watch(session))
        try:
            async for message in ws:
                if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    self.closes.append(4001)
                    await ws.close(code=4001, message=b"client sent inbound traffic")
                    break
        finally:
            watcher.cancel()
            if self.sessions.get(session.id) is session:
                session.closed = True
        return ws

    def _grace_over(self, old: Session) -> None:
        if not old.ws.closed:
            self.closes.append(4004)
            asyncio.ensure_future(old.ws.close(code=4004, message=b"client reconnect grace time expired"))

    async def _watch(self, s: Session) -> None:
        """4003 if nothing is subscribed in time; a keepalive after each silent period."""
        last = time.monotonic()
        while not s.ws.closed:
            await asyncio.sleep(0.1)
            if not s.subscriptions and time.monotonic() - s.welcomed > self.welcome_window and not s.closed:
                self.closes.append(4003)
                await s.ws.close(code=4003, message=b"connection unused")
                return
            if time.monotonic() - last >= s.keepalive and not self.silent:
                await s.ws.send_json({"metadata": self._metadata("session_keepalive"), "payload": {}})
                last = time.monotonic()

    async def _notify(self, text: str, login: str, badges: tuple[str, ...], message_id: str) -> str:
        for s in self.live_sessions():
            for sub in s.subscriptions:
                event = chat_event(self.user, text, login, badges, message_id)
                s.last = {"metadata": self._metadata("notification", sub),
                          "payload": {"subscription": sub, "event": event}}
                await s.ws.send_json(s.last)
                self.notifications.append(message_id)
        return message_id

    async def _redeliver(self) -> None:
        for s in self.live_sessions():
            if s.last is not None:
                await s.ws.send_json(s.last)

    async def _reconnect(self) -> None:
        for s in self.live_sessions():
            url = f"ws://127.0.0.1:{self.port}/ws?reconnect={s.id}"
            await s.ws.send_json({"metadata": self._metadata("session_reconnect"),
                                  "payload": self._session_payload(s, "reconnecting", url)})

    async def _revocation(self, status: str) -> None:
        for s in self.live_sessions():
            for sub in s.subscriptions:
                revoked = {**sub, "status": status}
                await s.ws.send_json({"metadata": self._metadata("revocation", sub),
                                      "payload": {"subscription": revoked}})
            s.subscriptions = []

    async def _close_all(self, code: int) -> None:
        for s in self.live_sessions():
            s.closed = True
            self.closes.append(code)
            await s.ws.close(code=code)


def chat_event(
    user: User, text: str, login: str, badges: tuple[str, ...], message_id: str
) -> dict[str, Any]:
    """channel.chat.message v1, as Twitch's reference example has it."""
    chatter = {"broadcaster": user.id}.get(badges[0] if badges else "", str(abs(hash(login)) % 10**8))
    if "broadcaster" in badges:
        login = user.login
    return {
        "broadcaster_user_id": user.id, "broadcaster_user_login": user.login,
        "broadcaster_user_name": user.display_name,
        "chatter_user_id": chatter, "chatter_user_login": login, "chatter_user_name": login.capitalize(),
        "message_id": message_id,
        "message": {"text": text, "fragments": [
            {"type": "text", "text": text, "cheermote": None, "emote": None, "mention": None}]},
        "color": "#00FF7F",
        "badges": [{"set_id": b, "id": "1", "info": ""} for b in badges],
        "message_type": "text", "cheer": None, "reply": None, "channel_points_custom_reward_id": None,
        "channel_points_animation_id": None, "source_broadcaster_user_id": None,
        "source_broadcaster_user_login": None, "source_broadcaster_user_name": None,
        "source_message_id": None, "source_badges": None,
    }
