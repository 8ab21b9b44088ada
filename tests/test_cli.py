"""The CLI against a real running server: what a Stream Deck or desktop shortcut would run."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from .procs import ServerProcess, free_port, write_config


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "overlay", "--config", str(config), *args],
        capture_output=True, text=True, timeout=30, cwd=config.parent,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("cli")
    port = free_port()
    proc = ServerProcess(write_config(folder, port), port).start()
    yield proc
    proc.stop()


async def test_a_cli_command_reaches_the_api_and_a_connected_websocket(server: ServerProcess) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(f"{server.url}/ws") as ws:
        first = json.loads((await ws.receive(timeout=5)).data)
        done = await asyncio.to_thread(cli, server.config, "start")
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("start: running · step 1/6 Review last notes")
        pushed = json.loads((await ws.receive(timeout=5)).data)
        assert pushed["rev"] == first["rev"] + 1 and pushed["phase"] == "running"
        done = await asyncio.to_thread(cli, server.config, "next")
        assert done.returncode == 0
        pushed = json.loads((await ws.receive(timeout=5)).data)
        assert pushed["step"]["id"] == "lecture"
    assert server.state()["step"]["title"] == "Watch the lecture, first pass"


def test_fail_goto_and_status(server: ServerProcess) -> None:
    before = server.state()["failures"]["session"]
    assert cli(server.config, "fail", "forgot", "the", "base", "case").returncode == 0
    snap = server.state()
    assert snap["failures"]["session"] == before + 1
    assert snap["failures"]["last_note"] == "forgot the base case"
    assert cli(server.config, "goto", "6").returncode == 0
    done = cli(server.config, "status", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["step"]["id"] == "project"
    done = cli(server.config, "status")
    assert "step 6/6 One project" in done.stdout
    # The deadline in the words the bar and /history use ("90 days left", not "90.7 days left").
    deadline = server.state()["deadline"]
    assert deadline["left_s"] > 2 * 86400  # the shipped config's deadline is months away
    assert done.stdout.rstrip().endswith(f"{deadline['label']}: {int(deadline['left_s'] // 86400)} days left")


def test_a_refused_command_exits_1_with_the_reason(server: ServerProcess) -> None:
    cli(server.config, "goto", "1")
    done = cli(server.config, "prev")
    assert done.returncode == 1
    assert "already on the first step" in done.stderr
    done = cli(server.config, "goto", "nowhere")
    assert done.returncode == 1 and "no step 'nowhere'" in done.stderr


def test_an_unreachable_server_exits_2_saying_so(tmp_path: Path) -> None:
    config = write_config(tmp_path, free_port())
    done = cli(config, "next")
    assert done.returncode == 2
    assert "cannot reach the server" in done.stderr and "Traceback" not in done.stderr
    assert f"The address is from {config.resolve()}" in done.stderr  # which config it used


def test_serve_refuses_a_public_bind_without_a_token(tmp_path: Path) -> None:
    config = write_config(tmp_path, free_port())
    done = cli(config, "serve", "--host", "0.0.0.0")
    assert done.returncode == 2
    assert "server.token" in done.stderr and "Traceback" not in done.stderr


def test_serve_refuses_a_foreign_database(tmp_path: Path) -> None:
    config = write_config(tmp_path, free_port())
    (tmp_path / "study-overlay.sqlite3").write_text("not a database")
    done = cli(config, "serve")
    assert done.returncode == 2
    assert "not a study-overlay database" in done.stderr
    assert (tmp_path / "study-overlay.sqlite3").read_text() == "not a database"


async def test_stopping_the_server_tells_open_pages_it_is_going_away(tmp_path: Path) -> None:
    port = free_port()
    proc = ServerProcess(write_config(tmp_path, port), port).start()
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(f"{proc.url}/ws") as ws:
            assert json.loads((await ws.receive(timeout=5)).data)["type"] == "snapshot"
            closing_soon = asyncio.ensure_future(ws.receive(timeout=10))
            await asyncio.to_thread(proc.stop)
            closing = await closing_soon
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert ws.close_code == aiohttp.WSCloseCode.GOING_AWAY
    finally:
        proc.stop()
