"""The HTTP API and WebSocket, through aiohttp's test client: what clients see, and every refusal."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse, WSCloseCode, WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from overlay.app import build_app
from overlay.config import Config
from overlay.runtime.hub import Frame, Hub
from overlay.runtime.live import LIVE
from overlay.storage.store import Storage

from .conftest import FakeClock

Client = TestClient  # type: ignore[type-arg]


async def command(client: Client, body: Any, **headers: str) -> tuple[int, dict[str, Any]]:
    resp = await client.post("/api/commands", json=body, headers=headers)
    return resp.status, await resp.json()


async def next_snapshot(ws: ClientWebSocketResponse) -> dict[str, Any]:
    while True:
        msg = await asyncio.wait_for(ws.receive(), 5)
        assert msg.type == WSMsgType.TEXT, msg
        data = msg.json()
        if data["type"] == "snapshot":
            return data  # type: ignore[no-any-return]


async def next_result(ws: ClientWebSocketResponse) -> dict[str, Any]:
    while True:
        data = await ws.receive_json(timeout=5)
        if data["type"] == "result":
            return data  # type: ignore[no-any-return]


async def test_state_of_a_fresh_service(client: Client) -> None:
    resp = await client.get("/api/state")
    assert resp.status == 200
    snap = await resp.json()
    assert snap["rev"] == 0
    assert snap["phase"] == "idle"
    assert snap["step"]["index"] == 0 and snap["step"]["id"] == "review"
    assert [s["title"] for s in snap["steps"]] == ["Review last notes", "Watch the lecture", "One project"]
    assert snap["failures"] == {"session": 0, "step": 0, "total": 0, "last_note": None, "log": []}
    assert snap["deadline"]["label"] == "Course final"
    assert snap["deadline"]["at"] == "2026-12-01T17:00:00.000Z"
    assert snap["server_time"] == "2026-11-24T18:00:00.000Z"


async def test_commands_change_the_snapshot_and_clocks_are_anchored(
    client: Client, clock: FakeClock
) -> None:
    status, snap = await command(client, {"command": "start"})
    assert status == 200 and snap["phase"] == "running" and snap["rev"] == 1
    clock.advance(minutes=10)
    status, snap = await command(client, {"command": "fail", "note": "sign error"})
    assert snap["failures"]["session"] == 1 and snap["failures"]["last_note"] == "sign error"
    clock.advance(minutes=2)
    status, snap = await command(client, {"command": "next"})
    assert snap["step"]["id"] == "lecture" and snap["step"]["number"] == 2
    assert snap["steps"][0]["state"] == "done" and snap["steps"][0]["elapsed_s"] == 720
    clock.advance(minutes=5)
    snap = await (await client.get("/api/state")).json()
    assert snap["session"]["elapsed_s"] == 17 * 60
    assert snap["step"]["elapsed_s"] == 5 * 60
    assert snap["step"]["delta_s"] == (5 - 45) * 60
    assert snap["clock"] == {"running": True, "since": "2026-11-24T18:12:00.000Z"}
    assert snap["failures"]["step"] == 0 and snap["failures"]["total"] == 1
    status, snap = await command(client, {"command": "goto", "step": "project"})
    assert status == 200 and snap["step"]["id"] == "project"
    status, snap = await command(client, {"command": "goto", "step": 1})
    assert status == 200 and snap["step"]["id"] == "review"


async def test_two_websocket_clients_both_see_a_change(client: Client) -> None:
    a = await client.ws_connect("/ws")
    b = await client.ws_connect("/ws")
    assert (await next_snapshot(a))["phase"] == "idle"
    assert (await next_snapshot(b))["phase"] == "idle"
    await a.send_json({"command": "start", "id": 7})
    got_a = await next_snapshot(a)
    got_b = await next_snapshot(b)
    assert got_a["phase"] == got_b["phase"] == "running"
    assert got_a["rev"] == got_b["rev"] == 1
    await a.close()
    await b.close()


async def test_websocket_commands_get_a_result_and_refusals_a_reason(client: Client) -> None:
    ws = await client.ws_connect("/ws")
    await next_snapshot(ws)
    await ws.send_json({"command": "prev", "id": 1})
    result = await ws.receive_json(timeout=5)
    assert result == {
        "type": "result", "id": 1, "ok": False, "status": 409,
        "error": "no session is running; start one first", "refusal": "NoActiveSession",
    }
    await ws.send_str("not json")
    assert (await ws.receive_json(timeout=5))["status"] == 400
    await ws.close()


class _Socket:
    """Stands in for a WebSocketResponse: records what it is sent, or blocks forever."""

    def __init__(self, *, stalled: bool) -> None:
        self.stalled = stalled
        self.closed = False
        self.got: list[str] = []

    async def send_frame(self, data: bytes, opcode: object) -> None:
        if self.stalled:
            await asyncio.Event().wait()
        self.got.append(data.decode())


async def test_a_stalled_client_does_not_delay_the_others() -> None:
    hub = Hub()
    stalled, live = _Socket(stalled=True), _Socket(stalled=False)
    async with hub.attached(stalled, Frame((0, 0), "s0")), hub.attached(live, Frame((0, 0), "s0")):  # type: ignore[arg-type]
        for i in range(1, 4):
            hub.publish(Frame((i, 0), f"s{i}"))
            await asyncio.sleep(0)
        await asyncio.sleep(0.01)
        assert live.got[-1] == "s3"
        assert live.got == sorted(live.got)  # in order; older ones may be skipped, latest wins
        hub.publish(Frame((4, 0), "s4"))
        await asyncio.sleep(0.01)
        assert live.got[-1] == "s4"
    assert stalled.got == []


@pytest.mark.parametrize(("body", "message"), [
    ({"command": "dance"}, "unknown command 'dance'"),
    ({"cmd": "next"}, 'missing "command"'),
    (["next"], "expected a JSON object"),
    ({"command": "fail", "note": 5}, '"note" must be text'),
    ({"command": "fail", "note": "x" * 281}, "at most 280"),
    ({"command": "next", "note": "x"}, "unexpected field"),
    ({"command": "goto", "step": "nowhere"}, "no step 'nowhere'"),
    ({"command": "goto", "step": 9}, "no step 9"),
    ({"command": "goto"}, '"step" must be'),
    ({"command": "goto", "step": "\u00b2"}, "no step"),
])
async def test_malformed_commands_get_400_and_change_nothing(
    client: Client, body: Any, message: str
) -> None:
    status, answer = await command(client, body)
    assert status == 400
    assert message in answer["error"]
    assert (await (await client.get("/api/state")).json())["rev"] == 0


async def test_non_json_and_oversized_bodies_get_400(client: Client) -> None:
    resp = await client.post("/api/commands", data="next")
    assert resp.status == 400 and "not JSON" in (await resp.json())["error"]
    resp = await client.post("/api/commands", data=b'{"command": "fail", "note": "' + b"x" * 17000 + b'"}')
    assert resp.status == 400 and "too large" in (await resp.json())["error"]


@pytest.mark.parametrize(("setup", "body", "refusal"), [
    ([], {"command": "next"}, "NoActiveSession"),
    ([], {"command": "resume"}, "NoActiveSession"),
    (["start"], {"command": "prev"}, "NoStepBefore"),
    (["start"], {"command": "resume"}, "NotPaused"),
    (["start"], {"command": "start"}, "SessionInProgress"),
    (["start", "pause"], {"command": "pause"}, "AlreadyPaused"),
    (["start"], {"command": "undo-fail"}, "NoFailureToUndo"),
    (["start"], {"command": "goto", "step": "review"}, "AlreadyOnStep"),
    ([], {"command": "reset"}, "NothingToReset"),
    ([], {"command": "restore"}, "NothingToRestore"),
])
async def test_refused_commands_get_409_with_the_refusal(
    client: Client, setup: list[str], body: dict[str, Any], refusal: str
) -> None:
    for name in setup:
        assert (await command(client, {"command": name}))[0] == 200
    before = await (await client.get("/api/state")).json()
    status, answer = await command(client, body)
    assert status == 409
    assert answer["refusal"] == refusal and answer["error"]
    after = await (await client.get("/api/state")).json()
    assert after["rev"] == before["rev"]


async def test_dns_rebinding_host_gets_403_but_ip_and_localhost_are_fine(client: Client) -> None:
    resp = await client.get("/api/state", headers={"Host": "attacker.example:8754"})
    assert resp.status == 403
    for host in ("localhost:8754", "127.0.0.1:8754", "[::1]:8754", "192.168.1.20:8754"):
        assert (await client.get("/api/state", headers={"Host": host})).status == 200


@pytest.mark.parametrize("foreign", [
    "http://evil.example",
    "http://{host}:{other_port}",  # another web app on this machine
    "https://{host}:{port}",
    "null",  # a sandboxed frame or a page opened from a file
])
async def test_foreign_origin_commands_get_403(client: Client, foreign: str) -> None:
    origin = foreign.format(host=client.host, port=client.port, other_port=client.port + 1)
    status, answer = await command(client, {"command": "start"}, Origin=origin)
    assert status == 403 and answer == {"error": f"commands from origin {origin!r} are refused"}
    own = f"http://{client.host}:{client.port}"
    status, _ = await command(client, {"command": "start"}, Origin=own)
    assert status == 200


async def test_foreign_origin_websocket_can_read_but_not_command(client: Client) -> None:
    ws = await client.ws_connect("/ws", headers={"Origin": "http://evil.example"})
    assert (await next_snapshot(ws))["phase"] == "idle"
    await ws.send_json({"command": "start"})
    answer = await ws.receive_json(timeout=5)
    assert answer["status"] == 403 and answer["ok"] is False
    await ws.close()


async def snapshot_at(ws: ClientWebSocketResponse, rev: int) -> dict[str, Any]:
    """The next snapshot of a command (status pushes keep the rev and are skipped)."""
    while (snap := await next_snapshot(ws))["rev"] < rev:
        pass
    return snap


async def test_a_change_is_shown_while_it_is_saved_and_answered_only_once_it_is_on_disk(
    client: Client, config: Config
) -> None:
    page = await client.ws_connect("/ws")
    assert (await next_snapshot(page))["rev"] == 0
    # Another program (a backup, a database browser) holds the write lock for a moment.
    other = sqlite3.connect(config.storage_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        answer = asyncio.ensure_future(command(client, {"command": "start"}))
        shown = await asyncio.wait_for(snapshot_at(page, 1), 0.5)  # on the page already
        assert shown["phase"] == "running"
        await asyncio.sleep(0.3)
        assert not answer.done(), "the change was answered before it was committed"
        assert (await (await client.get("/api/state")).json())["rev"] == 0  # the saved state only
    finally:
        other.execute("ROLLBACK")
        other.close()
    status, snap = await answer
    assert status == 200 and (snap["rev"], snap["phase"]) == (1, "running")
    await page.close()


async def test_a_change_that_cannot_be_saved_is_a_503_and_every_page_is_taken_back(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    page, dock = await client.ws_connect("/ws"), await client.ws_connect("/ws")
    assert (await command(client, {"command": "start"}))[0] == 200
    assert (await snapshot_at(page, 1))["phase"] == "running"
    await snapshot_at(dock, 1)

    def disk_error(*_: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    # Halfway through the transaction: the command row is already written by then.
    monkeypatch.setattr(client.app[LIVE].dispatcher.storage, "_apply_event", disk_error)
    await dock.send_json({"command": "fail", "note": "lost by ws", "id": 2})
    result = await next_result(dock)  # the answer comes before the socket is closed
    assert (result["ok"], result["status"]) == (False, 503)
    assert result["error"] == "could not save the change (disk I/O error); nothing changed"
    for ws in (page, dock):  # shown while it was being saved, then taken back: start over
        while (msg := await asyncio.wait_for(ws.receive(), 5)).type == WSMsgType.TEXT:
            pass
        assert msg.type == WSMsgType.CLOSE and msg.data == WSCloseCode.SERVICE_RESTART
    page = await client.ws_connect("/ws")
    back = await next_snapshot(page)
    assert (back["rev"], back["failures"]["session"]) == (1, 0)
    # While commits fail, a change is shown only once saved: pages are not sent away again.
    status, answer = await command(client, {"command": "fail", "note": "lost by http"})
    assert status == 503 and answer["error"] == result["error"]
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(page.receive(), 0.3)
    assert not page.closed
    monkeypatch.undo()  # the disk is back

    status, snap = await command(client, {"command": "fail", "note": "kept"})
    assert status == 200 and snap["rev"] == 2
    assert [f["note"] for f in snap["failures"]["log"]] == ["kept"]
    shown = await snapshot_at(page, 2)
    assert (shown["rev"], shown["failures"]["session"], shown["failures"]["last_note"]) == (2, 1, "kept")
    await page.close()


async def test_token_is_required_for_commands_but_not_for_reading(token_client: Client) -> None:
    assert (await token_client.get("/api/state")).status == 200
    status, answer = await command(token_client, {"command": "start"})
    assert status == 401 and "token" in answer["error"]
    status, _ = await command(token_client, {"command": "start"}, Authorization="Bearer wrong")
    assert status == 401
    status, snap = await command(token_client, {"command": "start"}, Authorization="Bearer s3cret-token")
    assert status == 200 and snap["phase"] == "running"
    resp = await token_client.post("/api/commands?token=s3cret-token", json={"command": "pause"})
    assert resp.status == 200
    ws = await token_client.ws_connect("/ws")
    assert (await next_snapshot(ws))["phase"] == "paused"
    await ws.send_json({"command": "resume"})
    assert (await next_result(ws))["status"] == 401
    await ws.close()
    ws = await token_client.ws_connect("/ws?token=s3cret-token")
    await next_snapshot(ws)
    await ws.send_json({"command": "resume"})
    assert (await next_result(ws))["ok"] is True
    await ws.close()


async def test_healthz(client: Client) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200 and (await resp.json())["ok"] is True


async def test_a_deeply_nested_body_is_a_400(client: Client) -> None:
    resp = await client.post("/api/commands", data="[" * 8000 + "]" * 8000)
    assert resp.status == 400


async def test_a_body_in_several_chunks_is_read_whole(client: Client) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"command": "fa'
        await asyncio.sleep(0.05)
        yield b'il", "note": "split"}'

    assert (await command(client, {"command": "start"}))[0] == 200
    resp = await client.post("/api/commands", data=chunks(), headers={"Content-Type": "application/json"})
    assert resp.status == 200
    assert (await resp.json())["failures"]["last_note"] == "split"


async def test_odd_websocket_fields_get_an_answer_not_a_closed_socket(client: Client) -> None:
    ws = await client.ws_connect("/ws")
    await next_snapshot(ws)
    await ws.send_json({"command": "start", "door": ["x"], "id": {"a": 1}})
    answer = await next_result(ws)
    assert answer["ok"] is True and answer["id"] is None
    await ws.send_str("[" * 8000 + "]" * 8000)
    assert (await next_result(ws))["status"] == 400
    await ws.close()


async def test_goto_by_number_means_position_and_by_text_id_first(client: Client) -> None:
    assert (await command(client, {"command": "start"}))[0] == 200
    status, snap = await command(client, {"command": "goto", "step": 3})
    assert status == 200 and snap["step"]["id"] == "project"
    status, snap = await command(client, {"command": "goto", "step": "2"})
    assert status == 200 and snap["step"]["id"] == "lecture"


async def test_a_note_is_measured_after_trimming(client: Client) -> None:
    assert (await command(client, {"command": "start"}))[0] == 200
    status, snap = await command(client, {"command": "fail", "note": " " * 10 + "x" * 280})
    assert status == 200 and snap["failures"]["last_note"] == "x" * 280


async def test_pacing_ages_without_a_command(client: Client, clock: FakeClock) -> None:
    from overlay.app import LIVE

    ws = await client.ws_connect("/ws")
    first = await next_snapshot(ws)
    clock.advance(hours=1)
    client.app[LIVE].republish()
    later = await next_snapshot(ws)
    assert later["rev"] == first["rev"]
    assert later["deadline"]["left_s"] == first["deadline"]["left_s"] - 3600
    await ws.close()


async def test_pages_hear_a_beat_and_a_fresh_snapshot_when_the_deadline_passes(
    config: Config, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import overlay.app

    monkeypatch.setattr(overlay.app, "BEAT_S", 0.02)
    app = build_app(config, Storage(config.storage_path, config.steps), clock=clock)
    async with TestClient(TestServer(app)) as c:
        ws = await c.ws_connect("/ws")
        first = await next_snapshot(ws)
        assert first["deadline"]["passed"] is False
        beat = await ws.receive_json(timeout=5)
        assert beat == {"type": "beat"}  # a page that hears nothing for 25 s marks itself offline
        clock.advance(days=8)  # past 2026-12-01 17:00Z
        passed = await next_snapshot(ws)
        assert passed["deadline"]["passed"] is True and passed["rev"] == first["rev"]
        await ws.close()


async def test_rev_counts_commands_and_status_rev_counts_status_pushes(client: Client) -> None:
    from overlay.app import LIVE

    ws = await client.ws_connect("/ws")
    first = await next_snapshot(ws)
    client.app[LIVE].set_status("obs", {"state": "connected", "reason": ""})
    status = await next_snapshot(ws)
    assert (status["rev"], status["status_rev"]) == (first["rev"], first["status_rev"] + 1)
    assert status["obs"]["state"] == "connected"
    client.app[LIVE].set_status("obs", {"state": "connected", "reason": ""})  # no change: no push
    await command(client, {"command": "start"})
    after = await next_snapshot(ws)
    assert (after["rev"], after["status_rev"]) == (first["rev"] + 1, status["status_rev"])
    await ws.close()


async def test_the_snapshot_carries_the_newest_failures_and_the_history_has_them_all(client: Client) -> None:
    """The log in every snapshot is the dock's list: the newest 20, whatever the session holds."""
    await command(client, {"command": "start"})
    for i in range(25):
        status, snap = await command(client, {"command": "fail", "note": f"n{i}"})
        assert status == 200
    assert snap["failures"]["session"] == 25 and snap["failures"]["last_note"] == "n24"
    assert [f["note"] for f in snap["failures"]["log"]] == [f"n{i}" for i in range(5, 25)]
    resp = await client.get("/api/sessions/1")
    assert resp.status == 200
    kept = [f["note"] for f in (await resp.json())["failure_log"]]
    assert kept == [f"n{i}" for i in range(25)]
