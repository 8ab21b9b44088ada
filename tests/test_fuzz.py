"""Generated input at the two command doors, POST /api/commands and /ws (issue 11).

Whatever comes in: never a 5xx; a refusal changes nothing, in memory or in the file; an
accepted command moves `rev` by exactly one; a WebSocket answers, or says goodbye with a close
frame. The clock stands still, so whole snapshots compare equal.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import re
import zlib
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientConnectionError, ClientWebSocketResponse, WSMsgType, WSServerHandshakeError
from hypothesis import given
from hypothesis import strategies as st

from overlay.core import commands
from overlay.doors.http.api import MAX_BODY

from .fuzzing import (
    HOSTS,
    TOKEN,
    Caller,
    Service,
    active_situations,
    ascii_text,
    callers,
    check,
    command_bodies,
    failure,
    json_values,
    notes,
    service,
    situations,
    to_bytes,
)

# A close frame with one of these is a proper goodbye; 1006 means the socket was just dropped,
# and 1011 is a WebSocket's 500.
PROPER_CLOSE = {1000, 1001, 1003, 1007, 1008, 1009}
PROBE = {"command": "toggle-pause", "id": "probe"}


# --- POST /api/commands ------------------------------------------------------------------

content_types = st.one_of(st.none(), st.sampled_from([
    "application/json", "application/json; charset=utf-8", "application/json; charset=latin-1",
    "application/json; charset=utf-16", "text/plain", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x", "application/octet-stream", "", ";;",
]), ascii_text)
door_headers = st.none() | st.sampled_from(commands.DOORS) | ascii_text


def request_headers(content_type: str | None, door: str | None = None) -> dict[str, Any]:
    """Keyword arguments for the client: these headers, and no Content-Type unless one is given."""
    headers = {} if door is None else {"X-Study-Overlay-Door": door}
    if content_type is None:
        return {"headers": headers, "skip_auto_headers": ["Content-Type"]}
    return {"headers": {**headers, "Content-Type": content_type}}


async def post_checked(svc: Service, before: dict[str, Any], data: bytes, **kwargs: Any) -> int:
    resp = await svc.client.post("/api/commands", data=data, **kwargs)
    text = await resp.text()
    after = await check(svc, before, resp.status, data)
    if resp.status == 200:
        assert json.loads(text)["rev"] == after["rev"]
    return resp.status


@given(situation=situations, body=command_bodies(), raw=st.booleans(), content_type=content_types,
       door=door_headers)
async def test_commands_over_http(
    situation: str, body: Any, raw: bool, content_type: str | None, door: str | None
) -> None:
    async with service() as svc:
        before = await svc.settle(situation)
        await post_checked(svc, before, to_bytes(body, raw), **request_headers(content_type, door))


# A note is the one free text stored as it came: any note is kept or refused, never a 500.
@given(situation=active_situations, note=notes, raw=st.booleans())
async def test_failure_notes_over_http(situation: str, note: Any, raw: bool) -> None:
    async with service() as svc:
        before = await svc.settle(situation)
        await post_checked(svc, before, to_bytes(failure(note), raw))


def nested(depth: int, bracket: str) -> bytes:
    opening, closing = ('{"a":', "}") if bracket == "{" else ("[", "]")
    return (opening * depth + "1" + closing * depth).encode()


bodies = st.one_of(
    st.builds(to_bytes, json_values, st.booleans()),
    st.builds(lambda v: json.dumps(v).encode("utf-16"), json_values),
    st.binary(max_size=64),
    st.builds(lambda b, cut: to_bytes(b)[:cut], command_bodies(), st.integers(0, 40)),
    st.builds(nested, st.integers(1, 5000), st.sampled_from("[{")),
    st.builds(lambda pad: b" " * pad + b'{"command": "start"}', st.integers(MAX_BODY - 30, MAX_BODY + 30)),
)


@given(situation=situations, data=bodies, content_type=content_types)
async def test_json_values_and_raw_bytes_over_http(
    situation: str, data: bytes, content_type: str | None
) -> None:
    async with service() as svc:
        before = await svc.settle(situation)
        await post_checked(svc, before, data, **request_headers(content_type))


@st.composite
def encoded_bodies(draw: st.DrawFn) -> bytes:
    """A command compressed one way or another, or not at all, whole or damaged."""
    plain = to_bytes(draw(command_bodies())) if draw(st.integers(0, 3)) else draw(st.binary())
    how = draw(st.sampled_from(["gzip", "zlib", "raw deflate", "plain", "junk"]))
    if how == "gzip":
        data = gzip.compress(plain, mtime=0)
    elif how == "zlib":
        data = zlib.compress(plain)
    elif how == "raw deflate":
        packer = zlib.compressobj(wbits=-15)
        data = packer.compress(plain) + packer.flush()
    elif how == "plain":
        data = plain
    else:
        data = draw(st.binary(min_size=1, max_size=40))
    damage = draw(st.sampled_from(["none", "cut", "flip", "append"]))
    if damage == "cut" and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif damage == "flip" and data:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]
    elif damage == "append":
        data += draw(st.binary(min_size=1, max_size=8))
    return data


content_encodings = st.sampled_from([
    "gzip", "deflate", "br", "zstd", "identity", "GZIP", "x-gzip", "gzip, deflate", "deflate, gzip",
    "compress", "", "bogus",
])


@given(situation=situations, encoding=content_encodings, data=encoded_bodies())
async def test_content_encodings_over_http(situation: str, encoding: str, data: bytes) -> None:
    async with service() as svc:
        before = await svc.settle(situation)
        headers = {"Content-Encoding": encoding, "Content-Type": "application/json"}
        await post_checked(svc, before, data, headers=headers)


# The client always frames a body right, so these go over a plain socket.
FRAMINGS = (
    "exact", "short", "long, then the client hangs up", "negative", "not a number", "signed",
    "huge", "twice, same", "twice, different", "chunked", "chunked with a length too",
    "bad chunk size", "no length", "over the limit",
)


def framed(framing: str, body: bytes, host: str) -> bytes:
    """A whole POST as it goes on the wire, its length declared the `framing` way."""
    n = len(body)
    length = {
        "exact": [f"Content-Length: {n}"], "short": [f"Content-Length: {max(n - 3, 0)}"],
        "long, then the client hangs up": [f"Content-Length: {n + 10}"],
        "negative": ["Content-Length: -1"], "not a number": ["Content-Length: ten"],
        "signed": [f"Content-Length: +{n}"], "huge": ["Content-Length: 99999999999999999999999"],
        "twice, same": [f"Content-Length: {n}"] * 2,
        "twice, different": [f"Content-Length: {n}", f"Content-Length: {n + 1}"],
        "chunked": ["Transfer-Encoding: chunked"],
        "chunked with a length too": ["Transfer-Encoding: chunked", f"Content-Length: {n}"],
        "bad chunk size": ["Transfer-Encoding: chunked"], "no length": [],
        "over the limit": [f"Content-Length: {MAX_BODY + 1}"],
    }[framing]
    if framing.startswith("chunked"):
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (n, body)
    elif framing == "bad chunk size":
        body = b"zz\r\n%s\r\n0\r\n\r\n" % body
    elif framing == "over the limit":
        body = body.ljust(MAX_BODY + 1)
    lines = ["POST /api/commands HTTP/1.1", f"Host: {host}", "Connection: close",
             "Content-Type: application/json", *length]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def exchange(svc: Service, request: bytes, hang_up: bool) -> list[int]:
    """Send raw bytes; the status of every response that comes back before the server closes."""
    reader, writer = await asyncio.open_connection(svc.client.host, svc.port)
    try:
        writer.write(request)
        if hang_up:
            writer.write_eof()
        got = await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return [int(s) for s in re.findall(rb"HTTP/1\.[01] (\d{3}) ", got)]


@given(situation=situations, framing=st.sampled_from(FRAMINGS), body=command_bodies())
async def test_framing_oddities_over_raw_http(situation: str, framing: str, body: Any) -> None:
    async with service() as svc:
        before = await svc.settle(situation)
        request = framed(framing, to_bytes(body), f"{svc.client.host}:{svc.port}")
        statuses = await exchange(svc, request, hang_up=framing.startswith("long"))
        assert all(s < 500 for s in statuses), (statuses, request)
        if framing.startswith("long"):
            await asyncio.sleep(0.01)  # time for a cut-short body to run, which it must not
        after = await svc.state()
        assert after["rev"] == before["rev"] + statuses.count(200), (statuses, request)
        if 200 not in statuses:
            assert after == before
        assert svc.stored_rev() == after["rev"]


@given(situation=situations, caller=callers, body=command_bodies())
async def test_token_server_checks_host_origin_then_token_over_http(
    situation: str, caller: Caller, body: Any
) -> None:
    async with service(TOKEN) as svc:
        before = await svc.settle(situation)
        data = to_bytes(body)
        headers = caller.headers(svc.port)
        resp = await svc.client.post(caller.path("/api/commands"), data=data, headers=headers)
        text = await resp.text()
        await check(svc, before, resp.status, (caller, data))
        denial = caller.denial()
        if denial is not None:
            assert resp.status == denial, text
        else:
            assert resp.status in (200, 400, 409), text


# --- /ws ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    kind: str  # text, binary, ping or pong
    payload: bytes


def text_frame(value: Any, raw: bool) -> Frame:
    return Frame("text", to_bytes(value, raw))


@st.composite
def ws_commands(draw: st.DrawFn) -> dict[Any, Any]:
    """A command as a page sends it: maybe with an "id" to match the answer, and a "door"."""
    body = draw(command_bodies())
    if draw(st.booleans()):
        body["id"] = draw(json_values)
    if draw(st.booleans()):
        body["door"] = draw(st.sampled_from(commands.DOORS) | json_values)
    return body


frames = st.one_of(
    st.builds(text_frame, ws_commands(), st.booleans()),
    st.builds(text_frame, notes.map(failure), st.booleans()),
    st.builds(text_frame, json_values, st.booleans()),
    st.builds(Frame, st.just("text"), st.text(max_size=30).map(str.encode)),
    st.builds(Frame, st.just("text"), st.builds(  # not UTF-8 at all
        lambda a, bad, b: a + bad + b, st.binary(max_size=8),
        st.sampled_from([b"\xed\xa0\x80", b"\xff", b"\xc0\xaf", b"\xe2\x82"]), st.binary(max_size=8))),
    st.builds(Frame, st.just("binary"), st.binary(max_size=40) | command_bodies().map(to_bytes)),
    st.builds(Frame, st.sampled_from(["ping", "pong"]), st.binary(max_size=125)),
    st.builds(Frame, st.sampled_from(["text", "binary"]),
              st.integers(MAX_BODY + 1, MAX_BODY + 64).map(lambda n: b"x" * n)),
)
OPCODES = {"text": WSMsgType.TEXT, "binary": WSMsgType.BINARY, "ping": WSMsgType.PING,
           "pong": WSMsgType.PONG}


async def answer(ws: ClientWebSocketResponse, ref: str | None = None) -> dict[str, Any] | None:
    """The next result on `ws` (with `ref`: the one with that id, past refusals of frames that
    were not commands); None once the server closed it with a proper close frame."""
    while True:
        msg = await ws.receive(timeout=5)
        if msg.type == WSMsgType.TEXT:
            data: dict[str, Any] = json.loads(msg.data)
            if data["type"] != "result":
                continue
            if ref is None or data.get("id") == ref:
                return data
            assert data["ok"] is False and data["status"] < 500, data
            continue
        assert msg.type == WSMsgType.CLOSE, (
            f"socket dropped without a close frame: {msg.type.name}, close code {ws.close_code}"
        )
        assert msg.data in PROPER_CLOSE, f"closed with {msg.data} {msg.extra!r}"
        return None


def expected_id(payload: bytes) -> object:
    with contextlib.suppress(ValueError):
        sent = json.loads(payload)
        if isinstance(sent, dict) and isinstance(sent.get("id"), str | int):
            return sent["id"]
    return None


def has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_lone_surrogate(v) for v in value)
    return False


def is_utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


async def check_result(
    svc: Service, before: dict[str, Any], reply: dict[str, Any], what: object
) -> dict[str, Any]:
    status = reply["status"]
    assert reply["ok"] is (status == 200), reply
    after = await check(svc, before, status, what)
    if status == 200:
        assert reply["rev"] == after["rev"]
    return after


async def send_each(svc: Service, sent: list[Frame]) -> None:
    """Every frame on one socket; after each, the socket still answers, or has said goodbye."""
    before = await svc.state()
    ws = await svc.client.ws_connect("/ws")
    try:
        for frame in sent:
            await ws.send_frame(frame.payload, OPCODES[frame.kind])
            if frame.kind == "text" and len(frame.payload) <= MAX_BODY and is_utf8(frame.payload):
                reply = await answer(ws)  # every text frame gets a result
                if reply is None:
                    assert await svc.state() == before
                    return
                assert reply.get("id") == expected_id(frame.payload), reply
                before = await check_result(svc, before, reply, frame)
            with contextlib.suppress(ClientConnectionError, ConnectionError):
                await ws.send_json(PROBE)
            reply = await answer(ws, PROBE["id"])
            if reply is None:
                assert await svc.state() == before
                return
            before = await check_result(svc, before, reply, PROBE)
    finally:
        await ws.close()


@given(situation=active_situations, note=notes, raw=st.booleans())
async def test_failure_notes_over_websocket(situation: str, note: Any, raw: bool) -> None:
    async with service() as svc:
        await svc.settle(situation)
        await send_each(svc, [text_frame(failure(note), raw)])


@given(situation=situations, sent=st.lists(frames, min_size=1, max_size=3))
async def test_any_frames_over_websocket(situation: str, sent: list[Frame]) -> None:
    async with service() as svc:
        await svc.settle(situation)
        await send_each(svc, sent)


@given(situation=situations, caller=callers, sent=st.lists(command_bodies(), min_size=1, max_size=2))
async def test_token_server_checks_host_origin_then_token_over_websocket(
    situation: str, caller: Caller, sent: list[Any]
) -> None:
    async with service(TOKEN) as svc:
        before = await svc.settle(situation)
        try:
            ws = await svc.client.ws_connect(caller.path("/ws"), headers=caller.headers(svc.port))
        except WSServerHandshakeError as exc:
            assert not HOSTS[caller.host] and exc.status == 403, exc
            assert await svc.state() == before
            return
        assert HOSTS[caller.host], "a Host we do not know got a socket"
        try:  # anyone may watch; only a caller with the right to may command
            for body in sent:
                await ws.send_str(to_bytes(body).decode())
                reply = await answer(ws)
                assert reply is not None, "a text frame closed the socket"
                before = await check_result(svc, before, reply, (caller, body))
                denial = caller.denial()
                if denial is None:
                    assert reply["status"] in (200, 400, 409), reply
                elif has_lone_surrogate(body):  # not text at all: may be refused as such first
                    assert reply["status"] in (denial, 400), reply
                else:
                    assert reply["status"] == denial, reply
        finally:
            await ws.close()
