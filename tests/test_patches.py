"""Pages get patches: after the full snapshot, each change as the few fields it moved (runtime/patch.py).

A patched client ends up with exactly what a full-snapshot client is sent, frame for frame; a
client that misses a patch asks for, and gets, the full state; a slow client that was skipped
is sent the full snapshot, never a patch it cannot apply."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from playwright.sync_api import Browser, WebSocketRoute

from overlay.runtime.hub import Frame, Hub

from .browser import command, new_page, start_server, wait_field, wait_live
from .conftest import FakeClock
from .jsonpatch import apply

Client = TestClient[web.Request, web.Application]


SIZES: dict[int, int] = {}  # id of a message received -> its size on the wire


async def receive(ws: Any) -> dict[str, Any]:
    while True:
        data = (await ws.receive(timeout=5)).data
        message = json.loads(data)
        if message["type"] != "beat":
            SIZES[id(message)] = len(data.encode())
            return message  # type: ignore[no-any-return]


async def post(client: Client, name: str, **extra: Any) -> None:
    answer = await client.post("/api/commands", json={"command": name, **extra})
    assert answer.status == 200, await answer.text()


async def test_a_patched_client_holds_exactly_what_a_full_client_is_sent(client: Client,
                                                                        clock: FakeClock) -> None:
    async with client.ws_connect("/ws") as full, client.ws_connect("/ws?patch=1") as patched:
        await receive(full)
        mine = await receive(patched)
        assert mine["type"] == "snapshot"
        await post(client, "start")
        first = [await receive(full), await receive(patched)]
        assert first[1]["type"] == "snapshot"  # the first change after connecting comes in full
        mine = first[1]
        sizes = []
        for i in range(40):
            clock.advance(seconds=30)
            await post(client, "fail", note=f"note {i} " + "é" * 270)
            want, got = await receive(full), await receive(patched)
            assert want["type"] == "snapshot" and got["type"] == "patch"
            assert got["base"] == [mine["rev"], mine["status_rev"]]
            mine = apply(mine, got["ops"])
            assert mine == want
            sizes.append((SIZES[id(want)], SIZES[id(got)]))
    (full_first, patch_first), (full_last, patch_last) = sizes[0], sizes[-1]
    assert full_last > 5 * full_first / 2  # the snapshot grew with the notes
    # The change did not, also once the log (20) slides: the note twice, and a few small operations.
    assert patch_last < full_last / 5 and patch_last < patch_first + 200


async def test_a_client_that_missed_a_patch_gets_the_full_state_back(client: Client) -> None:
    await post(client, "start")
    async with client.ws_connect("/ws?patch=1") as ws:
        mine = await receive(ws)
        await post(client, "fail", note="one")
        await receive(ws)  # in full: the first after connecting
        await post(client, "fail", note="two")
        missed = await receive(ws)  # dropped, as if lost
        assert missed["type"] == "patch"
        await post(client, "fail", note="three")
        late = await receive(ws)
        assert late["type"] == "patch" and late["base"] != [mine["rev"], mine["status_rev"]]
        await ws.send_str('{"type":"resync"}')  # what overlay.js sends when a base is not its own
        again = await receive(ws)
    state = await (await client.get("/api/state")).json()
    assert again["type"] == "snapshot"
    assert (again["rev"], again["failures"]["session"]) == (state["rev"], 3)
    assert [f["note"] for f in again["failures"]["log"]] == ["one", "two", "three"]


class _Ws:
    def __init__(self) -> None:
        self.closed = False
        self.got: list[dict[str, Any]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def send_frame(self, data: bytes, opcode: object) -> None:
        await self.gate.wait()
        self.got.append(json.loads(data))


async def test_a_skipped_slow_client_is_sent_the_full_snapshot_not_a_patch() -> None:
    hub = Hub()

    def frame(rev: int) -> Frame:
        full = json.dumps({"type": "snapshot", "rev": rev, "status_rev": 0})
        patch = json.dumps({"type": "patch", "rev": rev, "base": [rev - 1, 0]})
        return Frame((rev, 0), full, (rev - 1, 0), patch)

    def first() -> Frame:  # made for the client on connect, as Live.first_frame does
        return Frame((0, 0), json.dumps({"type": "snapshot", "rev": 0, "status_rev": 0}), pushed=False)

    slow, quick = _Ws(), _Ws()
    async with hub.attached(slow, first(), patches=True), hub.attached(quick, first(), patches=True):  # type: ignore[arg-type]
        await asyncio.sleep(0.01)
        hub.publish(frame(1))
        await asyncio.sleep(0.01)
        slow.gate.clear()  # stalls on rev 2; revs 3 and 4 wait in its outbox, latest wins
        for rev in (2, 3, 4):
            hub.publish(frame(rev))
            await asyncio.sleep(0.01)
        slow.gate.set()
        await asyncio.sleep(0.01)
    assert [(m["type"], m["rev"]) for m in quick.got] == [
        ("snapshot", 0), ("snapshot", 1), ("patch", 2), ("patch", 3), ("patch", 4)]
    assert [(m["type"], m["rev"]) for m in slow.got] == [("snapshot", 0), ("snapshot", 1), ("patch", 2),
                                                          ("snapshot", 4)]


@pytest.mark.chromium
def test_an_overlay_that_misses_a_patch_asks_again_and_shows_the_right_state(browser: Browser,
                                                                            tmp_path: Path) -> None:
    """The page in Chromium, through a proxy on its socket that drops one patch on the way."""
    server = start_server(tmp_path)
    sent_up: list[str] = []
    dropped: list[dict[str, Any]] = []

    def proxy(route: WebSocketRoute) -> None:
        upstream = route.connect_to_server()

        def down(message: str | bytes) -> None:
            data = json.loads(message)
            if data.get("type") == "patch" and data["rev"] == 4 and not dropped:
                dropped.append(data)  # lost on the way
                return
            route.send(message)

        def up(message: str | bytes) -> None:
            sent_up.append(str(message))
            upstream.send(message)

        upstream.on_message(down)
        route.on_message(up)

    try:
        with new_page(browser, 520, 240) as page:
            page.route_web_socket(re.compile(r"/ws"), proxy)
            page.goto(f"{server.url}/overlay/failures")
            wait_live(page)
            command(server, "start")  # rev 1, in full: the first change after connecting
            wait_field(page, "failures.session", "0")
            for note in ("one", "two", "three", "four"):  # revs 2 to 5; rev 4's patch is lost
                command(server, "fail", note=note)
            wait_field(page, "failures.session", "4")
            wait_field(page, "failures.last_note", "four")
            shown = page.evaluate("() => window.StudyOverlay.snapshot()")
    finally:
        server.stop()
    assert dropped and '{"type":"resync"}' in sent_up
    assert shown["rev"] == 5
    assert [f["note"] for f in shown["failures"]["log"]] == ["one", "two", "three", "four"]
