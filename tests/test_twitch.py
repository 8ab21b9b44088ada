"""The Twitch door's parts against the faithful Twitch (tests/fake_twitch.py): the fake's payloads
checked with TwitchIO's models, the device-code login's every answer, the refresh that works once,
the EventSub client's dead-link and unused-connection cases, chat parsing, config and the HTTP side."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from overlay.app import build_app
from overlay.config import Config, ConfigError, parse_config
from overlay.core import chat
from overlay.core.chat import SCOPES, TwitchConfig, TwitchUrls
from overlay.doors.twitch import auth, eventsub
from overlay.doors.twitch.eventsub import ChatMessage, EventSub
from overlay.storage.store import Storage
from overlay.storage.tokens import LoginStore

from .conftest import ROUTINE, FakeClock
from .fake_twitch import FakeTwitch


@pytest.fixture
def fake() -> Iterator[FakeTwitch]:
    with FakeTwitch() as twitch:
        yield twitch


def urls(fake: FakeTwitch) -> TwitchUrls:
    return TwitchUrls(**fake.urls)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


# --- the fake's payloads are Twitch's (TwitchIO's models read them) ----------------------------


async def test_the_fakes_frames_are_what_twitchio_reads(
    fake: FakeTwitch, http: aiohttp.ClientSession
) -> None:
    import warnings

    with warnings.catch_warnings():  # twitchio subclasses web.Application, which aiohttp frowns on
        warnings.simplefilter("ignore", DeprecationWarning)
        import twitchio  # noqa: F401
    from twitchio.models.eventsub_ import WebsocketWelcome, create_event_instance
    from twitchio.types_.conduits import (
        NotificationSubscription,
        ReconnectSession,
        RevocationSubscription,
        WelcomeSession,
    )
    from twitchio.types_.eventsub import ChannelChatMessageEvent, SubscriptionResponse
    from twitchio.types_.responses import (
        DeviceCodeFlowResponse,
        DeviceCodeTokenResponse,
        SendChatMessageResponseData,
        UsersResponseData,
        ValidateTokenResponse,
    )

    def keys(td: Any, obj: dict[str, Any], unless: frozenset[str] = frozenset()) -> None:
        missing = td.__required_keys__ - obj.keys() - unless
        assert not missing, (td.__name__, missing)

    fake.device_interval = 0
    form = {"client_id": fake.client_id, "scopes": " ".join(SCOPES)}
    async with http.post(f"{fake.url}/oauth2/device", data=form) as r:
        device = await r.json()
    keys(DeviceCodeFlowResponse, device)
    fake.approve(device["user_code"])
    async with http.post(f"{fake.url}/oauth2/token", data={**form, "device_code": device["device_code"],
                                                           "grant_type": auth.DEVICE_GRANT}) as r:
        tokens = await r.json()
    keys(DeviceCodeTokenResponse, tokens)
    bearer = {"Authorization": f"Bearer {tokens['access_token']}", "Client-Id": fake.client_id}
    async with http.get(f"{fake.url}/oauth2/validate",
                        headers={"Authorization": f"OAuth {tokens['access_token']}"}) as r:
        keys(ValidateTokenResponse, await r.json())
    async with http.get(f"{fake.url}/helix/users", headers=bearer) as r:
        # Twitch sends `email` only with the user:read:email scope (its reference says so).
        keys(UsersResponseData, (await r.json())["data"][0], frozenset({"email"}))
    async with http.ws_connect(fake.urls["eventsub"]) as ws:
        welcome = await ws.receive_json()
        keys(WelcomeSession, welcome["payload"]["session"])
        assert WebsocketWelcome(welcome["payload"]["session"]).keepalive_timeout_seconds == 10
        body = {"type": "channel.chat.message", "version": "1",
                "condition": {"broadcaster_user_id": fake.user.id, "user_id": fake.user.id},
                "transport": {"method": "websocket", "session_id": welcome["payload"]["session"]["id"]}}
        async with http.post(f"{fake.url}/helix/eventsub/subscriptions", json=body, headers=bearer) as r:
            assert r.status == 202
            keys(SubscriptionResponse, await r.json())
        async with http.post(f"{fake.url}/helix/eventsub/subscriptions", json=body, headers=bearer) as r:
            assert r.status == 409
        await asyncio.to_thread(fake.chat, "!fails", login="viewer32", badges=("moderator",))
        note = await ws.receive_json()
        keys(NotificationSubscription, note["payload"]["subscription"])
        keys(ChannelChatMessageEvent, note["payload"]["event"])
        model = create_event_instance(note["metadata"]["subscription_type"], note, http=None)  # type: ignore[arg-type]
        seen = (model.text, model.chatter.moderator, model.chatter.display_name)
        assert seen == ("!fails", True, "Viewer32")
        await asyncio.to_thread(fake.reconnect)
        keys(ReconnectSession, (await ws.receive_json())["payload"]["session"])
        await asyncio.to_thread(fake.revoke)
        keys(RevocationSubscription, (await ws.receive_json())["payload"]["subscription"])
    async with http.post(f"{fake.url}/helix/chat/messages", headers=bearer, json={
            "broadcaster_id": fake.user.id, "sender_id": fake.user.id, "message": "hi"}) as r:
        keys(SendChatMessageResponseData, (await r.json())["data"][0])


# --- login ------------------------------------------------------------------------------------


async def login(fake: FakeTwitch, http: aiohttp.ClientSession, *, approve_after: int = 1,
                then: Callable[[], None] | None = None) -> tuple[auth.Login, list[float]]:
    """A device-code login; "Twitch" approves after `approve_after` polls. Sleeps are recorded and
    taken at a tenth of their length, so the polling can be read quickly."""
    code = await auth.start(http, urls(fake), fake.client_id, SCOPES)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == approve_after:
            (then or fake.approve)()
        await asyncio.sleep(seconds / 10)

    found = await auth.wait_for_approval(http, urls(fake), fake.client_id, SCOPES, code, sleep=sleep)
    return found, slept


async def test_the_login_polls_at_twitchs_interval_until_approved(
    fake: FakeTwitch, http: aiohttp.ClientSession
) -> None:
    fake.min_poll_gap = 0
    found, slept = await login(fake, http, approve_after=3)
    assert slept == [5, 5, 5]  # the interval Twitch gave
    assert (found.login, found.user_id, found.scopes) == ("studystreamer", fake.user.id, SCOPES)
    assert repr(found).count(found.access_token) == 0  # a token never shows in a repr (or a log)


async def test_slow_down_lengthens_the_interval_by_five_seconds(
    fake: FakeTwitch, http: aiohttp.ClientSession
) -> None:
    fake.min_poll_gap = 60  # every poll after the first is too soon

    def approve() -> None:
        fake.min_poll_gap = 0
        fake.approve()

    found, slept = await login(fake, http, approve_after=4, then=approve)
    assert slept == [5, 5, 10, 15] and found.login == "studystreamer"


async def test_an_early_invalid_device_code_is_pending(fake: FakeTwitch, http: aiohttp.ClientSession) -> None:
    fake.min_poll_gap, fake.early_invalid = 0, 2
    found, slept = await login(fake, http, approve_after=3)
    assert len(slept) == 3 and found.login == "studystreamer"


async def test_a_code_that_runs_out_or_is_declined_fails_with_a_reason(
    fake: FakeTwitch, http: aiohttp.ClientSession
) -> None:
    fake.min_poll_gap, fake.device_interval, fake.device_expires_in = 0, 1, 2
    with pytest.raises(auth.LoginFailed, match="expired"):
        await login(fake, http, approve_after=99)
    fake.device_expires_in = 1800
    with pytest.raises(auth.LoginFailed, match="declined"):
        await login(fake, http, approve_after=1, then=fake.deny)


async def test_a_refresh_token_works_once(fake: FakeTwitch, http: aiohttp.ClientSession) -> None:
    fake.min_poll_gap = 0
    first, _ = await login(fake, http)
    second = await auth.refresh(http, urls(fake), fake.client_id, first)
    assert second.refresh_token != first.refresh_token and second.login == first.login
    with pytest.raises(auth.LoginLost, match="reconnect Twitch"):
        await auth.refresh(http, urls(fake), fake.client_id, first)
    assert await auth.validate(http, urls(fake), second.access_token) is not None


async def test_a_stale_login_is_not_refreshed_twice_across_processes(
    fake: FakeTwitch, http: aiohttp.ClientSession, make_config: Callable[..., Config], clock: FakeClock
) -> None:
    """Two holders of the same pair (the service and a CLI): the second finds the new pair saved."""
    from overlay.doors.twitch.door import TwitchDoor
    from overlay.runtime.live import LIVE

    fake.min_poll_gap = 0
    config = make_config(ROUTINE + fake.config_yaml())
    store = LoginStore(config.storage_path)
    stale, _ = await login(fake, http)
    store.save(stale)
    app = build_app(config, Storage(config.storage_path, config.steps), clock=clock)
    async with TestClient(TestServer(app)):
        door = TwitchDoor(app[LIVE], store)
        door._http = http
        fresh = await door._refresh(stale)
        again = await door._refresh(stale)  # the other holder, with the spent pair
    assert again == fresh == store.load() and fresh.refresh_token != stale.refresh_token
    assert fake.requests.count(("POST", "/oauth2/token")) == 2  # the login and one refresh


# --- EventSub ---------------------------------------------------------------------------------


async def connected_session(fake: FakeTwitch, http: aiohttp.ClientSession) -> tuple[auth.Login, Any]:
    fake.min_poll_gap = 0
    found, _ = await login(fake, http)
    return found, None


async def test_a_silent_link_is_dead_after_the_keepalive(
    fake: FakeTwitch, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No keepalive for keepalive_timeout_seconds (and a little more): the client starts over."""
    monkeypatch.setattr(eventsub, "KEEPALIVE_S", 10)  # Twitch's least
    monkeypatch.setattr(eventsub, "GRACE_S", 0.5)
    found, _ = await connected_session(fake, http)
    from overlay.doors.twitch.helix import Helix

    helix = Helix(http, urls(fake), fake.client_id)
    live: list[float] = []

    async def subscribe(session_id: str) -> None:
        await helix.subscribe_chat(found.access_token, session_id, found.user_id, found.user_id)

    async def on_chat(message: ChatMessage) -> None:
        pass

    fake.silent = True
    started = time.monotonic()
    with pytest.raises(auth.TwitchError, match="silent for over 10"):
        await EventSub(http, fake.urls["eventsub"], subscribe, on_chat, lambda: live.append(1)).run()
    assert live == [1] and 10.4 <= time.monotonic() - started < 14


async def test_a_connection_not_subscribed_in_time_is_closed_4003(
    fake: FakeTwitch, http: aiohttp.ClientSession
) -> None:
    fake.welcome_window = 0.3

    async def too_slow(session_id: str) -> None:
        await asyncio.sleep(1)

    async def on_chat(message: ChatMessage) -> None:
        pass

    events = EventSub(http, fake.urls["eventsub"], too_slow, on_chat, lambda: None)
    with pytest.raises(auth.TwitchError, match="4003: nothing was subscribed in time"):
        await events.run()
    assert fake.closes == [4003]


# --- chat, config, the HTTP side --------------------------------------------------------------


def test_what_a_chat_message_asks() -> None:
    config = TwitchConfig(names={**{w: w for w in chat.WORDS}, "fails": "fehler"})
    assert chat.read("!fehler", (), config) == chat.Asked("fails", "", True)
    assert chat.read("!FAIL forgot the chain rule ", ("moderator", "subscriber"), config) == chat.Asked(
        "fail", "forgot the chain rule", True)
    assert chat.read("!fail x", ("subscriber", "vip"), config) == chat.Asked("fail", "x", False)
    assert chat.read("!undofail", ("broadcaster",), config) == chat.Asked("undofail", "", True)
    assert chat.read("!fails", (), config) is None  # renamed
    assert chat.read("fails please", (), config) is None
    assert chat.read("?step", (), TwitchConfig(prefix="?")) == chat.Asked("step", "", True)


@pytest.mark.parametrize(("text", "message"), [
    ("twitch: {enabled: true}\n", "twitch.client_id (line 3): is required when twitch.enabled is true"),
    ("twitch: {client_id: 'secret!'}\n", "twitch.client_id (line 3): expected the Client ID"),
    ("twitch: {prefix: 'go'}\n", "twitch.prefix (line 3): expected 1 to 3 symbols"),
    ("twitch: {names: {fails: 'two words'}}\n", "twitch.names.fails (line 3): expected one word"),
    ("twitch: {names: {fails: step}}\n", "names two commands"),
    ("twitch: {names: {dance: x}}\n", "twitch.names.dance (line 3): unknown key"),
    ("twitch: {urls: {api: 'http://example.com/helix'}}\n",
     "twitch.urls.api (line 3): http:// only on loopback"),
    ("twitch: {urls: {eventsub: 'https://x'}}\n", "twitch.urls.eventsub (line 3): expected a wss:// address"),
    ("twitch: {reply_every: soon}\n", "twitch.reply_every (line 3)"),
])
def test_a_bad_twitch_config_names_the_key(text: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config("steps:\n  - {id: a, title: A}\n" + text, base_dir=tmp_path)
    assert message in str(info.value)


async def test_connect_twitch_needs_the_same_origin_or_the_token(
    token_client: TestClient[Any, Any], client: TestClient[Any, Any]
) -> None:
    answer = await token_client.post("/api/twitch/login", json={})
    assert answer.status == 401 and "token" in (await answer.json())["error"]
    answer = await client.post("/api/twitch/login", json={}, headers={"Origin": "https://evil.example"})
    assert answer.status == 403
    answer = await client.post("/api/twitch/login", json={})
    assert answer.status == 409 and "twitch.enabled is false" in (await answer.json())["error"]
    assert (await client.post("/api/twitch/reload", json={})).status == 200
    state = await (await client.get("/api/state")).json()
    assert state["twitch"] == {"state": "off", "reason": "twitch.enabled is false in config.yaml",
                               "words": ["twitch.enabled is false in config.yaml", {}], "login": None}
    assert "token" not in json.dumps(state["twitch"])


async def test_a_reply_past_the_limit_is_not_sent_and_says_why(
    fake: FakeTwitch, http: aiohttp.ClientSession
) -> None:
    from overlay.doors.twitch.helix import Helix

    fake.min_poll_gap = 0
    found, _ = await login(fake, http)
    helix = Helix(http, urls(fake), fake.client_id)
    results = [await helix.send(found.access_token, found.user_id, found.user_id, f"reply {i}")
               for i in range(21)]
    assert all(r.ok for r in results[:20])
    assert not results[20].ok and results[20].reason.startswith("msg_ratelimit: ")


def test_replies_are_in_the_configs_language(make_config: Callable[..., Config]) -> None:
    from datetime import timedelta

    from overlay.core import session as core
    from overlay.core import views
    from overlay.doors.twitch import replies
    from overlay.i18n import language

    from .conftest import T0

    config = make_config()
    state, _ = core.apply(core.State(), core.Start(), T0, len(config.steps))
    state, _ = core.apply(state, core.Fail("segno sbagliato"), T0 + timedelta(minutes=3), len(config.steps))
    snap = views.snapshot(state, config, T0 + timedelta(minutes=4), 2)
    assert replies.answer("fails", snap, language("it")) == (
        "Fallimenti: 1 in questa sessione, 1 in tutto · ultimo: segno sbagliato · "
        "più fallimenti, più apprendimento")
    assert replies.answer("step", snap, language("es")) == "Paso 1/3: Review last notes · 4:00 / 15:00"
    assert replies.answer("focus", snap, language("en")) == "This step has no focus and break cycle."
