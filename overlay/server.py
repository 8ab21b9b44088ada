"""The aiohttp application: routes, the live snapshot, and the doors into dispatch."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from aiohttp import WSMsgType, web

from . import commands, core, history, pages, views
from .config import Config
from .dispatch import Change, Dispatcher, utc_now
from .hub import Hub
from .security import command_denied, error, host_guard
from .storage import Storage, StorageError

log = logging.getLogger("study_overlay")

MAX_BODY = 16 * 1024
DOORS = frozenset({"http", "cli", "dock", "ws", "hotkey", "obs"})


class Live:
    """The server-owned state as clients see it, and every door's way in."""

    def __init__(self, config: Config, dispatcher: Dispatcher, hub: Hub) -> None:
        self.config = config
        self.dispatcher = dispatcher
        self.hub = hub
        self.status: dict[str, dict[str, Any]] = {
            "obs": {"state": "off", "reason": "obs.enabled is false in config.yaml"},
            "hotkeys": {"state": "off", "reason": "not started", "confirm": None},
        }
        dispatcher.subscribe(self._on_change)
        self.text = self.render(dispatcher.clock())

    def snapshot(self, now: datetime) -> dict[str, Any]:
        d = self.dispatcher
        snap = views.snapshot(d.state, self.config, now, d.rev)
        snap.update(self.status)
        return snap

    def render(self, now: datetime) -> str:
        return json.dumps(self.snapshot(now), separators=(",", ":"))

    def _on_change(self, change: Change) -> None:
        self.text = self.render(change.at)
        self.hub.publish(self.text)

    def republish(self) -> None:
        """Send a fresh snapshot with no change: figures that age (pacing) move on."""
        self.text = self.render(self.dispatcher.clock())
        self.hub.publish(self.text)

    def set_status(self, name: str, value: dict[str, Any]) -> None:
        """Publish a change of an outside part's state (OBS link, hotkeys)."""
        if self.status.get(name) == value:
            return
        self.status[name] = value
        self.republish()

    async def execute(self, data: Any, door: str) -> tuple[int, dict[str, Any] | str]:
        """Parse and dispatch; (HTTP status, error payload or the new snapshot's JSON text)."""
        try:
            command = commands.parse(data, self.config.steps)
        except commands.BadCommand as exc:
            return 400, {"error": str(exc)}
        try:
            await self.dispatcher.dispatch(command, door)
        except core.Refused as refusal:
            return 409, {"error": str(refusal), "refusal": refusal.name}
        except (sqlite3.Error, OSError) as exc:
            log.error("could not save %s: %s", command.name, exc)
            return 503, {"error": f"could not save the change ({exc}); nothing changed"}
        return 200, self.text


LIVE = web.AppKey("live", Live)


# --- handlers ----------------------------------------------------------------------------


async def healthz(request: web.Request) -> web.Response:
    live = request.app[LIVE]
    hub = live.hub
    return web.json_response({
        "ok": True, "rev": live.dispatcher.rev, "clients": len(hub),
        "fanout_ms": round(hub.last_fanout_ms, 3),
    })


async def get_state(request: web.Request) -> web.Response:
    live = request.app[LIVE]
    return web.Response(text=live.render(live.dispatcher.clock()), content_type="application/json")


async def get_history(request: web.Request) -> web.Response:
    live = request.app[LIVE]
    now = live.dispatcher.clock()
    try:
        data = await asyncio.to_thread(
            history.history, live.config.storage_path, live.config, live.dispatcher.state, now
        )
    except (StorageError, sqlite3.Error) as exc:
        return error(503, f"cannot read the history: {exc}")
    return web.json_response(data)


async def get_session(request: web.Request) -> web.Response:
    live = request.app[LIVE]
    text = request.match_info["number"]
    if not text.isascii() or not text.isdecimal() or len(text) > 9:
        return error(400, "a session number is a whole number")
    number = int(text)

    def read() -> dict[str, Any] | None:
        db = history.open_readonly(live.config.storage_path)
        try:
            return history.session_detail(db, live.config, number, live.dispatcher.clock())
        finally:
            db.close()

    try:
        detail = await asyncio.to_thread(read)
    except (StorageError, sqlite3.Error) as exc:
        return error(503, f"cannot read the history: {exc}")
    if detail is None:
        return error(404, f"no session {number}")
    return web.json_response(detail)


async def post_command(request: web.Request) -> web.Response:
    live = request.app[LIVE]
    denied = command_denied(request, live.config.server)
    if denied is not None:
        return denied
    try:
        raw = await request.read()  # client_max_size caps it
    except web.HTTPRequestEntityTooLarge:
        return error(400, f"body too large; at most {MAX_BODY} bytes")
    data = _json(raw)
    if data is _NOT_JSON:
        return error(400, 'body is not JSON; send {"command": "next"}')
    status, payload = await live.execute(data, _door(request.headers.get("X-Study-Overlay-Door"), "http"))
    if isinstance(payload, str):
        return web.Response(text=payload, status=status, content_type="application/json")
    return web.json_response(payload, status=status)


async def websocket(request: web.Request) -> web.WebSocketResponse:
    live = request.app[LIVE]
    denied = command_denied(request, live.config.server)
    ws = web.WebSocketResponse(heartbeat=20.0, compress=False, max_msg_size=MAX_BODY)
    await ws.prepare(request)
    async with live.hub.attached(ws, live.render(live.dispatcher.clock()), request.transport):
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            reply = await _ws_command(live, msg.data, denied)
            await ws.send_str(json.dumps(reply))
    return ws


_NOT_JSON = object()


def _json(raw: str | bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return _NOT_JSON


def _door(value: object, default: str) -> str:
    return value if isinstance(value, str) and value in DOORS else default


async def _ws_command(live: Live, text: str, denied: web.Response | None) -> dict[str, Any]:
    data = _json(text)
    if data is _NOT_JSON:
        return {"type": "result", "ok": False, "status": 400, "error": "message is not JSON"}
    ref = data.pop("id", None) if isinstance(data, dict) else None
    if not isinstance(ref, str | int | None):
        ref = None
    if denied is not None:
        body = json.loads(denied.text or "{}")
        return {"type": "result", "id": ref, "ok": False, "status": denied.status, **body}
    door = _door(data.pop("door", None) if isinstance(data, dict) else None, "ws")
    status, payload = await live.execute(data, door)
    if isinstance(payload, str):
        return {"type": "result", "id": ref, "ok": True, "status": 200,
                "rev": live.dispatcher.rev}
    return {"type": "result", "id": ref, "ok": False, "status": status, **payload}


# --- the application ---------------------------------------------------------------------


def build_app(
    config: Config, storage: Storage, *, clock: Callable[[], datetime] = utc_now
) -> web.Application:
    app = web.Application(middlewares=[host_guard(config.server)], client_max_size=MAX_BODY)
    hub = Hub()
    live = Live(config, Dispatcher(config, storage, clock), hub)
    app[LIVE] = live
    app.add_routes([
        web.get("/healthz", healthz),
        web.get("/api/state", get_state),
        web.get("/api/history", get_history),
        web.get(r"/api/sessions/{number}", get_session),
        web.post("/api/commands", post_command),
        web.get("/ws", websocket),
        *pages.routes(),
    ])
    app.on_shutdown.append(lambda _app: hub.close_all())
    app.cleanup_ctx.extend([_close_storage(storage), _refresh(live)])
    return app


BEAT_S = 10.0  # pages mark themselves offline after 25 s without a word
REFRESH_S = 600.0  # pages tick clocks themselves; only pacing text needs a nudge now and then
BEAT = json.dumps({"type": "beat"})


def _refresh(live: Live) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            deadline = live.config.deadline
            checked = live.dispatcher.clock()
            next_refresh = asyncio.get_running_loop().time() + REFRESH_S
            while True:
                await asyncio.sleep(BEAT_S)
                now = live.dispatcher.clock()
                crossed = deadline is not None and checked < deadline.at <= now
                checked = now
                if crossed or asyncio.get_running_loop().time() >= next_refresh:
                    live.republish()  # also right after the deadline: pacing turns to "past"
                    next_refresh = asyncio.get_running_loop().time() + REFRESH_S
                else:
                    live.hub.beat(BEAT)

        task = asyncio.create_task(loop())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return ctx


def _close_storage(storage: Storage) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        yield
        storage.close()

    return ctx
