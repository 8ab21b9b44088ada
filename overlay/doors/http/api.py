"""HTTP and WebSocket door: JSON in, typed commands to dispatch, snapshots out."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import sqlite3
from typing import Any

from aiohttp import WSMsgType, web

from ...core import commands
from ...core import session as core
from ...runtime.dispatcher import NotSaved
from ...runtime.live import LIVE, Live
from ...runtime.security import command_denied, error
from ...storage import history
from ...storage.store import StorageError

MAX_BODY = 16 * 1024
log = logging.getLogger("study_overlay")


async def run_command(live: Live, data: Any, door: str) -> tuple[int, dict[str, Any]]:
    """Parse and dispatch: (200, {"rev"}) once committed, else (status, {"error", ...})."""
    try:
        command = commands.parse(data, live.config.steps)
    except commands.BadCommand as exc:
        return 400, {"error": str(exc)}
    try:
        change = await live.dispatch(command, door)
    except core.Refused as refusal:
        return 409, {"error": str(refusal), "refusal": refusal.name}
    except NotSaved as exc:
        return 503, {"error": str(exc)}
    return 200, {"rev": change.rev}


async def healthz(request: web.Request) -> web.Response:
    live = request.app[LIVE]
    hub = live.hub
    return web.json_response({
        "ok": True, "rev": live.dispatcher.rev, "status_rev": live.status_rev, "clients": len(hub),
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
    try:
        detail = await asyncio.to_thread(
            history.read_session, live.config.storage_path, live.config, number, live.dispatcher.clock()
        )
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
    data, refused = await read_json(request, 'send {"command": "next"}')
    if refused is not None:
        return refused
    door = _door(request.headers.get("X-Study-Overlay-Door"), "http")
    status, payload = await run_command(live, data, door)
    if status == 200:
        return web.Response(text=live.text, content_type="application/json")
    return web.json_response(payload, status=status)


async def read_json(request: web.Request, example: str) -> tuple[Any, web.Response | None]:
    """A request's JSON body, or the 400 answer that says why it cannot be read."""
    try:
        raw = await request.read()  # client_max_size caps it, after any Content-Encoding
    except web.HTTPRequestEntityTooLarge:
        return None, error(400, f"body too large; at most {MAX_BODY} bytes")
    except web.RequestPayloadError:
        encoding = request.headers.get("Content-Encoding", "")
        answer = error(400, f"the body cannot be decoded (Content-Encoding: {encoding[:40]!r})")
        # The rest of the body cannot be read either: close after answering, don't drain it.
        answer.force_close()
        request.content.feed_eof()
        return None, answer
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark is allowed, and dropped
    except UnicodeDecodeError:
        return None, error(400, f"body is not UTF-8 text; {example}")
    data, problem = _json(text)
    if data is _NOT_JSON:
        return None, error(400, f"body is not JSON; {example}")
    if problem is not None:
        return None, error(400, problem)
    return data, None


async def websocket(request: web.Request) -> web.WebSocketResponse:
    live = request.app[LIVE]
    denied = command_denied(request, live.config.server)
    ws = web.WebSocketResponse(heartbeat=20.0, compress=False, max_msg_size=MAX_BODY)
    await ws.prepare(request)
    patches = request.query.get("patch", "") in ("1", "on", "true")  # pages; others get snapshots
    async with live.hub.attached(ws, live.first_frame(live.dispatcher.clock()), request.transport,
                                 patches=patches) as box:
        async for msg in ws:
            if msg.type == WSMsgType.BINARY:
                reply = {"type": "result", "ok": False, "status": 400,
                         "error": 'send text frames of JSON, like {"command": "next"}'}
            elif msg.type != WSMsgType.TEXT:
                continue
            elif _is_resync(msg.data):  # a page that missed a patch: the full snapshot, and no reply
                box.last = None
                box.put(live.first_frame(live.dispatcher.clock()))
                continue
            else:
                try:
                    reply = await _ws_command(live, msg.data, denied)
                except Exception:  # a bug answers this message; it does not drop the socket
                    log.exception("websocket message failed")
                    reply = {"type": "result", "ok": False, "status": 500,
                             "error": "the service failed on this message; see its log"}
            if ws.closed:  # closed by the server meanwhile (the data file was replaced)
                break
            with contextlib.suppress(ConnectionError):
                await ws.send_str(json.dumps(reply))
    return ws


def _is_resync(text: str) -> bool:
    """{"type": "resync"}: what overlay.js sends when a patch does not apply to what it shows."""
    if '"resync"' not in text:
        return False
    data, problem = _json(text)
    return (problem is None and isinstance(data, dict) and data.get("type") == "resync"
            and "command" not in data)


_NOT_JSON = object()
NOT_UNICODE = "text holds a lone surrogate (such as \\ud800), which is not Unicode text"


def _json(text: str) -> tuple[Any, str | None]:
    """(the JSON value, None), or (what could be read, why it cannot be taken)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return _NOT_JSON, "not JSON"
    if _SURROGATE.search(text) is not None:  # escaped (\ud800) or decoded; rare, so checked late
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return data, NOT_UNICODE
    return data, None


_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")


def _door(value: object, default: str) -> str:
    return value if isinstance(value, str) and value in commands.DOORS else default


async def _ws_command(live: Live, text: str, denied: web.Response | None) -> dict[str, Any]:
    data, problem = _json(text)
    ref = data.pop("id", None) if isinstance(data, dict) else None
    if not isinstance(ref, str | int | None):
        ref = None
    if denied is not None:
        body = json.loads(denied.text or "{}")
        return {"type": "result", "id": ref, "ok": False, "status": denied.status, **body}
    if problem is not None:
        error_text = "message is not JSON" if data is _NOT_JSON else problem
        return {"type": "result", "id": ref, "ok": False, "status": 400, "error": error_text}
    door = _door(data.pop("door", None) if isinstance(data, dict) else None, "ws")
    status, payload = await run_command(live, data, door)
    if status == 200:
        return {"type": "result", "id": ref, "ok": True, "status": 200, **payload}
    return {"type": "result", "id": ref, "ok": False, "status": status, **payload}
