"""/setup's saves over HTTP, against a real config.yaml and SQLite file: same rules as commands,
applied at once, a running session keeps its place, nothing secret sent to the page."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from overlay.app import build_app
from overlay.config import load_config
from overlay.core.focus import Focus
from overlay.runtime.boundary import BOUNDARIES
from overlay.storage.store import Storage

from .conftest import ROOT, FakeClock
from .fake_obs import FakeObs

PASSWORD = "hunter2-obs-secret"
Client = TestClient[web.Request, web.Application]


def write(folder: Path, token: str = "") -> Path:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    text = text.replace('password: ""  ', f'password: "{PASSWORD}"', 1)
    text = text.replace('token: ""    ', f'token: "{token}"', 1)
    path = folder / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
async def serve(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Callable[..., Any]]:
    """Starts the app on a config.yaml in tmp_path; every client it made is closed at the end."""
    clients: list[Client] = []

    async def start(token: str = "", path: Path | None = None) -> Client:
        config = load_config(path or write(tmp_path, token))
        storage = Storage(config.storage_path, config.steps)
        client = TestClient(TestServer(build_app(config, storage, clock=clock)))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


@pytest.fixture
async def app(serve: Callable[..., Any]) -> Client:
    return await serve()  # type: ignore[no-any-return]


async def form(client: Client) -> dict[str, Any]:
    answer = await client.get("/api/setup")
    assert answer.status == 200
    return await answer.json()  # type: ignore[no-any-return]


def routine_body(f: dict[str, Any], steps: list[dict[str, Any]] | None = None, **extra: Any,
                 ) -> dict[str, Any]:
    return {"version": f["version"], "steps": steps if steps is not None else f["steps"],
            "deadline": f["deadline"],
            "goal": f["goal"], **extra}


async def command(client: Client, name: str) -> None:
    answer = await client.post("/api/commands", json={"command": name})
    assert answer.status == 200, await answer.text()


async def test_the_page_and_its_form_never_carry_the_obs_password(app: Client) -> None:
    page = await (await app.get("/setup")).text()
    data = await form(app)
    assert PASSWORD not in page and PASSWORD not in json.dumps(data)
    assert data["obs"]["password_set"] is True
    # Saved with no password typed: the one in the file stays.
    answer = await app.post("/api/setup/obs", json={**data["obs"], "password": None, "port": 4460,
                                                    "version": data["version"]})
    assert answer.status == 200, await answer.text()
    assert PASSWORD not in await answer.text()
    config = load_config(Path(data["path"]))
    assert (config.obs.port, config.obs.password) == (4460, PASSWORD)


async def test_an_edited_routine_is_live_at_once_and_the_running_session_keeps_its_place(
    app: Client, clock: FakeClock
) -> None:
    await command(app, "start")
    clock.advance(minutes=10)
    await command(app, "next")  # now on the lecture
    clock.advance(minutes=5)
    async with app.ws_connect("/ws") as ws:
        first = json.loads((await ws.receive()).data)
        f = await form(app)
        steps = [{"id": None, "title": "Warm-up flashcards", "target": "10m", "scene": "", "focus": False},
                 *f["steps"]]
        steps[2] = {**steps[2], "title": "The lecture, renamed"}
        answer = await app.post("/api/setup/routine", json=routine_body(f, steps))
        assert answer.status == 200, await answer.text()
        pushed = json.loads((await ws.receive()).data)
    assert pushed["rev"] == first["rev"] + 1
    step = pushed["step"]
    assert (step["id"], step["number"], step["count"]) == ("lecture", 3, 7)
    assert step["title"] == "The lecture, renamed"
    assert step["elapsed_s"] == 300
    state = await (await app.get("/api/state")).json()
    assert state["step"] == step
    page = await (await app.get("/overlay/step")).text()
    assert "The lecture, renamed" in page


async def test_a_title_change_alone_is_pushed_without_a_new_rev(app: Client) -> None:
    await command(app, "start")
    async with app.ws_connect("/ws") as ws:
        first = json.loads((await ws.receive()).data)
        f = await form(app)
        steps = [{**f["steps"][0], "title": "Notes from last time"}, *f["steps"][1:]]
        assert (await app.post("/api/setup/routine", json=routine_body(f, steps))).status == 200
        pushed = json.loads((await ws.receive()).data)
    assert pushed["rev"] == first["rev"]
    assert pushed["step"]["title"] == "Notes from last time"


async def test_the_new_routine_and_the_session_survive_a_restart(serve: Callable[..., Any], clock: FakeClock,
                                                                 tmp_path: Path) -> None:
    app = await serve()
    await command(app, "start")
    clock.advance(minutes=3)
    await command(app, "next")
    f = await form(app)
    steps = [{"id": None, "title": "Warm-up", "target": "", "scene": "", "focus": False},
             *[s for s in f["steps"] if s["id"] != "project"]]  # one step in front, the last one out
    assert (await app.post("/api/setup/routine", json=routine_body(f, steps))).status == 200
    before = await (await app.get("/api/state")).json()
    await app.close()  # closing twice (again at the end) is harmless
    again = await serve(path=tmp_path / "config.yaml")
    after = await (await again.get("/api/state")).json()
    assert (after["rev"], after["step"]["id"], after["step"]["count"]) == (before["rev"], "lecture", 6)
    assert after["step"]["elapsed_s"] == before["step"]["elapsed_s"]
    # Undo still works across the edit, in the new routine: back before `next`, on the review.
    assert (await again.post("/api/commands", json={"command": "undo"})).status == 200
    back = await (await again.get("/api/state")).json()
    assert (back["step"]["id"], back["step"]["number"], back["step"]["count"]) == ("review", 2, 6)


@pytest.mark.parametrize(("change", "says"), [
    (lambda s: [{**s[0], "target": "soon"}, *s[1:]], "steps[0].target"),
    (lambda s: [], "steps: expected a list of 1 to 50 steps"),
    (lambda s: [{**s[0], "focus": "yes"}, *s[1:]], "steps[0].focus"),
    (lambda s: [{**s[0], "title": "x" * 201}, *s[1:]], "steps[0].title"),
])
async def test_a_bad_routine_is_a_400_naming_the_key_and_changes_nothing(app: Client, change: Any,
                                                                          says: str) -> None:
    f = await form(app)
    path = Path(f["path"])
    before, state = path.read_bytes(), await (await app.get("/api/state")).text()
    answer = await app.post("/api/setup/routine", json=routine_body(f, change(f["steps"])))
    assert answer.status == 400
    assert says in (await answer.json())["error"]
    assert path.read_bytes() == before
    assert await (await app.get("/api/state")).text() == state


async def test_a_bad_deadline_is_refused_with_the_rules_of_start(app: Client) -> None:
    f = await form(app)
    answer = await app.post("/api/setup/routine", json={**routine_body(f), "deadline": {"at": "next friday"}})
    assert answer.status == 400
    assert "deadline.at" in (await answer.json())["error"]


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"version": 3, "steps": [], "apply": "yes"}',
                                  b"\xff\xfe"])
async def test_malformed_bodies_are_400_never_500(app: Client, body: bytes) -> None:
    for path in ("/api/setup/routine", "/api/setup/obs", "/api/setup/obs/test", "/api/setup/scenes",
                 "/api/setup/hotkeys/check"):
        answer = await app.post(path, data=body, headers={"Content-Type": "application/json"})
        assert 400 <= answer.status < 500, (path, answer.status)
        assert "error" in await answer.json()


async def test_a_file_edited_by_hand_meanwhile_is_not_overwritten(app: Client) -> None:
    f = await form(app)
    path = Path(f["path"])
    by_hand = path.read_text(encoding="utf-8").replace("label: Course finished", "label: Exam day")
    path.write_text(by_hand, encoding="utf-8")
    answer = await app.post("/api/setup/routine", json=routine_body(f))
    assert answer.status == 409 and "changed on disk" in (await answer.json())["error"]
    assert path.read_text(encoding="utf-8") == by_hand


async def test_saves_follow_the_rules_of_commands(serve: Callable[..., Any]) -> None:
    app = await serve(token="setup-token-1234")
    f = await form(app)
    path = Path(f["path"])
    before = path.read_bytes()
    foreign = await app.post("/api/setup/routine", json=routine_body(f), headers={"Origin": "http://evil.example"})
    assert foreign.status == 403
    missing = await app.post("/api/setup/obs", json={**f["obs"], "version": f["version"]})
    assert missing.status == 401
    probe = await app.post("/api/setup/obs/test", json={"host": "127.0.0.1", "port": 1})
    assert probe.status == 401
    assert path.read_bytes() == before
    ok = await app.post("/api/setup/routine", json=routine_body(f),
                        headers={"Authorization": "Bearer setup-token-1234"})
    assert ok.status == 200
    page = await (await app.get("/setup")).text()
    assert "setup-token-1234" not in page and 'id="so-token-warning"' in page
    # Opened with it, its links to the dock and the start page keep it: commands work there too.
    page = await (await app.get("/setup?token=setup-token-1234")).text()
    assert 'href="/control?token=setup-token-1234"' in page and 'href="/?token=setup-token-1234"' in page


async def test_test_connection_says_why_and_what_to_do(app: Client) -> None:
    with FakeObs(["Scene"], password="right-one") as obs:
        wrong = await (await app.post("/api/setup/obs/test", json={"host": "127.0.0.1", "port": obs.port,
                                                                   "password": "wrong"})).json()
        right = await (await app.post("/api/setup/obs/test", json={"host": "127.0.0.1", "port": obs.port,
                                                                   "password": "right-one"})).json()
        port = obs.port
    assert (wrong["ok"], wrong["kind"]) == (False, "auth")
    assert wrong["reason"] == "authentication failed: wrong password"
    assert "Show Connect Info" in wrong["hint"]
    assert right["ok"] is True and right["websocket"].startswith("5.")
    gone = await (await app.post("/api/setup/obs/test", json={"host": "127.0.0.1", "port": port,
                                                              "password": "right-one"})).json()
    assert (gone["ok"], gone["kind"]) == (False, "unreachable")
    assert "Enable WebSocket server" in gone["hint"]


async def test_checking_hotkeys_without_a_listener_is_refused_with_the_reason(app: Client) -> None:
    answer = await app.post("/api/setup/hotkeys/check", json={"seconds": 30})
    assert answer.status == 409
    assert "global hotkeys are not listening" in (await answer.json())["error"]


async def test_the_setup_page_is_linked_from_the_start_page_and_the_dock(app: Client) -> None:
    for path in ("/", "/control"):
        assert 'href="/setup' in await (await app.get(path)).text()


async def test_turning_focus_cycles_on_for_the_current_step_sets_the_clock_for_its_first_break(
    app: Client, clock: FakeClock
) -> None:
    await command(app, "start")
    boundaries = app.server.app[BOUNDARIES]
    assert boundaries.wakes_at is None  # no cycles in the shipped routine
    f = await form(app)
    steps = [{**f["steps"][0], "focus": True}, *f["steps"][1:]]
    assert (await app.post("/api/setup/routine", json=routine_body(f, steps))).status == 200
    assert boundaries.wakes_at == clock.now + Focus().work
    state = await (await app.get("/api/state")).json()
    assert state["focus"]["phase"] == "focus"


async def test_two_saves_at_once_never_lose_one_silently(app: Client) -> None:
    f = await form(app)
    first = {**routine_body(f), "deadline": {"at": f["deadline"]["at"], "label": "First"}}
    second = {**routine_body(f), "deadline": {"at": f["deadline"]["at"], "label": "Second"}}
    answers = await asyncio.gather(app.post("/api/setup/routine", json=first),
                                   app.post("/api/setup/routine", json=second))
    statuses = sorted(a.status for a in answers)
    assert statuses == [200, 409]  # the second saw a file the first had changed: it says so
    saved = load_config(Path(f["path"]))
    won = "First" if answers[0].status == 200 else "Second"
    assert saved.deadline is not None and saved.deadline.label == won


async def test_the_previous_sessions_failures_follow_their_steps_through_an_edit_and_a_restart(
    serve: Callable[..., Any], clock: FakeClock, tmp_path: Path
) -> None:
    app = await serve()
    await command(app, "start")
    await app.post("/api/commands", json={"command": "fail", "note": "on review"})
    await command(app, "next")
    await app.post("/api/commands", json={"command": "fail", "note": "on the lecture"})
    await command(app, "finish")
    await command(app, "start")  # session 2: session 1 is the one its review step looks back at
    f = await form(app)
    steps = list(reversed(f["steps"]))  # every step moves
    assert (await app.post("/api/setup/routine", json=routine_body(f, steps))).status == 200
    await app.close()
    config = load_config(tmp_path / "config.yaml")
    storage = Storage(config.storage_path, config.steps)
    try:
        previous = storage.load()[0].previous
    finally:
        storage.close()
    assert previous is not None and previous.number == 1
    assert [(config.steps[f.step].id, f.note) for f in previous.failures] == [
        ("review", "on review"), ("lecture", "on the lecture")]
