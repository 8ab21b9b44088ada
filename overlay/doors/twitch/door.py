"""Twitch chat as a door: viewers' questions answered, moderators' !fail dispatched like any command.

The link never holds the service up: with Twitch off, unreachable or logged out, everything else
runs. Its state (`off`, `logged_out`, `connecting`, `connected`, `error` with a reason, and the
login name) is in the snapshot as `twitch`, like OBS's; a token never is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp

from ...core import chat, commands
from ...core import session as core
from ...i18n import N_, Said, language
from ...runtime import recap
from ...runtime.dispatcher import Change, NotSaved
from ...runtime.live import Live
from ...storage.store import StorageError
from ...storage.tokens import Login, LoginStore
from . import auth, replies
from .auth import LoginLost, TwitchError
from .eventsub import ChatMessage, EventSub, Revoked
from .helix import Helix, Unauthorized
from .replies_queue import Replies

log = logging.getLogger("study_overlay")
T = TypeVar("T")
VALIDATE_EVERY_S = 3600.0  # Twitch asks apps to validate their token hourly
BACKOFF_MAX_S = 60.0


class TwitchDoor:
    def __init__(self, live: Live, store: LoginStore) -> None:
        self.live, self.store = live, store
        self.config = live.config.twitch
        self.lang = language(live.config.language)
        self.login: Login | None = None
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._http: aiohttp.ClientSession | None = None
        self._helix: Helix | None = None
        self.replies = Replies(self._send, self.config.reply_every.total_seconds(),
                               self.config.cooldown.total_seconds())
        self.device: auth.DeviceCode | None = None  # a login started from the dock, waiting
        self._device_wait: asyncio.Task[Any] | None = None
        self._recapped: set[int] = set()  # sessions whose recap went to chat
        self._said_scope = False  # the missing marker scope is logged once
        self._linked = False  # the chat link came up since the last trouble

    # --- life -------------------------------------------------------------------------------

    async def start(self) -> None:
        if not self.config.enabled:
            self._status("off", Said(N_("twitch.enabled is false in config.yaml")))
            return
        self._status("connecting")  # until the login is read: never "off" while it is on
        self._http = aiohttp.ClientSession()
        self._helix = Helix(self._http, self.config.urls, self.config.client_id)
        if self.config.post_recap or self.config.markers:
            self.live.dispatcher.stages.chat = self.on_change
        self._spawn(self._run())
        self._spawn(self.replies.run())

    async def stop(self) -> None:
        self.live.dispatcher.stages.chat = None
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()

    def nudge(self) -> None:
        """The login row changed (a CLI login or logout): read it again now."""
        self._wake.set()

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _status(self, state: str, reason: Said | None = None) -> None:
        reason = reason or Said("")
        self.live.set_status("twitch", {
            "state": state, "reason": reason, "words": reason.words() if reason else None,
            "login": self.login.login if self.login and state in ("connecting", "connected") else None,
        })

    async def _sleep_or_wake(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _run(self) -> None:
        backoff = 1.0
        while True:
            self._wake.clear()
            try:
                self.login = await asyncio.to_thread(self.store.load)
            except StorageError as exc:
                self._status("error", Said(N_("cannot read the Twitch login: %(error)s"), error=exc))
                await self._sleep_or_wake(BACKOFF_MAX_S)
                continue
            if self.login is None:
                self._status("logged_out", Said(N_("not logged in: study-overlay twitch login, or Connect "
                                                   "Twitch on the dock")))
                await self._wake.wait()
                continue
            self._status("connecting")
            try:
                await self._connected_session()
            except (LoginLost, Revoked) as exc:
                log.warning("twitch: %s", exc)
                self._status("error", Said(N_("Twitch no longer accepts this login: reconnect Twitch")))
                await self._wake.wait()
                continue
            except (TwitchError, StorageError) as exc:
                log.warning("twitch: %s; trying again", exc)
                reason = exc.args[0] if exc.args and isinstance(exc.args[0], Said) else Said(str(exc))
                self._status("error", reason)
            else:
                continue  # the session ended by a nudge: a new login, or a logout
            if self._linked:  # it had been up: a new trouble starts the backoff afresh
                self._linked, backoff = False, 1.0
            await self._sleep_or_wake(min(backoff, BACKOFF_MAX_S) * random.uniform(1.0, 1.5))
            backoff = min(backoff * 2, BACKOFF_MAX_S)
            if self._wake.is_set():
                backoff = 1.0

    async def _connected_session(self) -> None:
        """Validate (refresh once on a 401), then read chat until the link ends or a nudge comes."""
        assert self._http is not None and self.login is not None
        if await auth.validate(self._http, self.config.urls, self.login.access_token) is None:
            self.login = await self._refresh(self.login)
        events = EventSub(self._http, self.config.urls.eventsub, self._subscribe, self._on_chat,
                          self._on_live)
        tasks: list[asyncio.Future[Any]] = [asyncio.ensure_future(events.run()),
                                            asyncio.ensure_future(self._validate_hourly()),
                                            asyncio.ensure_future(self._wake.wait())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            error = task.exception()
            if error is not None:
                raise error

    def _on_live(self) -> None:
        self._linked = True
        self._status("connected")

    async def _validate_hourly(self) -> None:
        assert self._http is not None
        while True:
            await asyncio.sleep(VALIDATE_EVERY_S)
            assert self.login is not None
            if await auth.validate(self._http, self.config.urls, self.login.access_token) is None:
                self.login = await self._refresh(self.login)

    async def _refresh(self, stale: Login) -> Login:
        """Once per expired token, across processes: the newest pair is saved before it is used."""
        assert self._http is not None
        held = await asyncio.to_thread(self.store.lock)
        try:
            current = await asyncio.to_thread(self.store.load)
            if current is None:
                raise LoginLost(Said(N_("not logged in: study-overlay twitch login, or Connect Twitch on "
                                        "the dock")))
            if current.refresh_token != stale.refresh_token:
                return current  # another process refreshed it first
            fresh = await auth.refresh(self._http, self.config.urls, self.config.client_id, current)
            await asyncio.to_thread(self.store.save, fresh)
            log.info("twitch: login refreshed")
            return fresh
        finally:
            self.store.unlock(held)

    async def _helix_call(self, call: Callable[[str], Awaitable[T]]) -> T:
        """A Helix call with the current token; on a 401, refresh once and try again."""
        assert self.login is not None
        try:
            return await call(self.login.access_token)
        except Unauthorized:
            self.login = await self._refresh(self.login)
            return await call(self.login.access_token)

    async def _subscribe(self, session_id: str) -> None:
        assert self._helix is not None and self.login is not None
        me = self.login.user_id
        await self._helix_call(lambda token: self._helix.subscribe_chat(token, session_id, me, me))  # type: ignore[union-attr]

    # --- chat -------------------------------------------------------------------------------

    async def _on_chat(self, message: ChatMessage) -> None:
        asked = chat.read(message.text, message.badges, self.config)
        if asked is None:
            return
        if not asked.allowed:
            log.info("twitch: !%s from %s ignored: only the broadcaster and moderators may",
                     asked.word, message.chatter_login)
            return
        if asked.word in chat.QUESTIONS:
            self.replies.ask(asked.word, lambda: replies.answer(asked.word, self._snapshot(), self.lang),
                             message.message_id)
            return
        text = await self._act(asked)
        self.replies.ask(message.message_id, lambda: text, message.message_id, merge=False)

    async def _act(self, asked: chat.Asked) -> str:
        body: dict[str, Any] = {"fail": {"command": "fail", "note": asked.rest},
                                "undofail": {"command": "undo-fail"}, "undo": {"command": "undo"}}[asked.word]
        taken_back = self.live.dispatcher.history.done[-1].command if asked.word == "undo" and \
            self.live.dispatcher.history.done else ""
        try:
            command = commands.parse(body, self.live.config.steps)
            await self.live.dispatch(command, "twitch")
        except commands.BadCommand as exc:
            return replies.refused(str(exc), self.lang)
        except core.Refused as refusal:
            return replies.refused(str(refusal), self.lang)
        except NotSaved as exc:
            return replies.refused(str(exc), self.lang)
        snap = self._snapshot()
        if asked.word == "undo":
            return replies.took_back(taken_back, self.lang)
        return replies.logged(snap, self.lang) if asked.word == "fail" else replies.undone(snap, self.lang)

    def _snapshot(self) -> dict[str, Any]:
        return self.live.snapshot(self.live.dispatcher.clock())

    async def _send(self, text: str, reply_to: str | None) -> None:
        if self._helix is None or self.login is None:
            return
        me = self.login.user_id
        try:
            sent = await self._helix_call(
                lambda token: self._helix.send(token, me, me, text, reply_to))  # type: ignore[union-attr]
        except TwitchError as exc:
            log.warning("twitch: reply not sent: %s", exc)
            return
        if not sent.ok:
            log.warning("twitch: reply dropped by Twitch: %s", sent.reason)

    # --- the recap after finish ---------------------------------------------------------------

    def on_change(self, change: Change) -> None:
        """The dispatcher's chat stage: a finished session's short recap goes to chat, once."""
        for event in change.events:
            if self.config.post_recap and isinstance(event, core.SessionFinished) \
                    and event.session not in self._recapped:
                self._recapped.add(event.session)
                self._spawn(self._post_recap(event.session))
            if self.config.markers and isinstance(event, core.StepChanged | core.SessionStarted):
                step = event.to_step if isinstance(event, core.StepChanged) else 0
                title = self.live.config.steps[step].title
                self._spawn(self._marker(f"{step + 1} \u00b7 {title}"))

    async def _marker(self, description: str) -> None:
        """A stream marker where the step begins; offline or without the scope, one log line."""
        if self._helix is None or self.login is None:
            return
        if chat.MARKER_SCOPE not in self.login.scopes:
            if not self._said_scope:
                self._said_scope = True
                log.warning("twitch: stream markers need a login with %s: run study-overlay twitch login "
                            "again", chat.MARKER_SCOPE)
            return
        me = self.login.user_id
        try:
            made = await self._helix_call(
                lambda token: self._helix.create_marker(token, me, description))  # type: ignore[union-attr]
        except TwitchError as exc:
            log.warning("twitch: no stream marker for %r: %s", description, exc)
            return
        if not made:
            log.info("twitch: no stream marker for %r: the stream is not live", description)

    async def _post_recap(self, number: int) -> None:
        live = self.live
        try:
            data = await asyncio.to_thread(recap.gather, live.config.storage_path, live.config, number,
                                           live.dispatcher.clock())
        except (StorageError, sqlite3.Error) as exc:
            log.warning("twitch: no recap of session %s: %s", number, exc)
            return
        if data is not None:
            text = recap.short(data, self.lang)
            self.replies.ask(f"recap:{number}", lambda: text, None, merge=False)

    # --- a login from the dock --------------------------------------------------------------

    async def begin_login(self) -> auth.DeviceCode:
        """Asks Twitch for a code to show on the dock; the wait for approval runs in the background."""
        if self._http is None:
            raise TwitchError(Said(N_("twitch.enabled is false in config.yaml")))
        code = await auth.start(self._http, self.config.urls, self.config.client_id, self.config.scopes)
        if self._device_wait is not None:  # a second click: only the newest code is waited for
            self._device_wait.cancel()
        self.device = code
        self._device_wait = self._spawn(self._finish_login(code))
        return code

    async def _finish_login(self, code: auth.DeviceCode) -> None:
        assert self._http is not None
        try:
            login = await auth.wait_for_approval(self._http, self.config.urls, self.config.client_id,
                                                 self.config.scopes, code)
            await asyncio.to_thread(self.store.save, login)
            log.info("twitch: logged in as %s", login.login)
            self.nudge()
        except TwitchError as exc:
            log.warning("twitch: login from the dock: %s", exc)
        finally:
            if self.device is code:
                self.device = None
