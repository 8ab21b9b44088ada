"""Messages for a user who is stuck, and input that is not text: each says what to do, none is a 500."""

from __future__ import annotations

import gzip
import http.server
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from .procs import ROOT, ServerProcess, free_port, serve_once, write_config

Client = TestClient[Any, Any]


async def state(client: Client) -> dict[str, Any]:
    return dict(await (await client.get("/api/state")).json())


async def running(client: Client) -> dict[str, Any]:
    assert (await client.post("/api/commands", json={"command": "start"})).status == 200
    return await state(client)


# --- text that is not Unicode, bodies that cannot be decoded ------------------------------


@pytest.mark.parametrize("body", [
    b'{"command": "fail", "note": "\\ud800"}',  # JSON-escaped lone surrogate
    b'{"command": "fail", "note": "\\udfff x"}',
    b'{"command": "fail", "note": "\xed\xa0\x80"}',  # the same, as raw (invalid UTF-8) bytes
    b'{"command": "fail", "note": "ok", "\\ud800": 1}',  # in a key
    b'{"command": "fail", "note": "caf\xe9"}',  # Latin-1, not UTF-8
])
async def test_a_body_that_is_not_unicode_text_is_a_400_and_changes_nothing(
    client: Client, body: bytes
) -> None:
    before = await running(client)
    answer = await client.post("/api/commands", data=body, headers={"Content-Type": "application/json"})
    assert answer.status == 400
    assert "error" in await answer.json()
    assert await state(client) == before


async def test_a_valid_surrogate_pair_is_an_emoji_not_an_error(client: Client) -> None:
    await running(client)
    answer = await client.post("/api/commands", data=b'{"command": "fail", "note": "\\ud83d\\ude00"}')
    assert answer.status == 200 and (await answer.json())["failures"]["last_note"] == "\U0001f600"


async def test_a_lone_surrogate_over_the_socket_is_refused_and_the_socket_stays(client: Client) -> None:
    before = await running(client)
    async with client.ws_connect("/ws") as ws:
        assert (await ws.receive_json())["rev"] == before["rev"]
        await ws.send_str('{"id": 1, "command": "fail", "note": "\\ud800"}')
        reply = await ws.receive_json(timeout=5)
        assert reply["type"] == "result" and reply["ok"] is False and reply["status"] == 400
        assert reply["id"] == 1  # the dock matches answers by id
        await ws.send_bytes(b'{"command": "next"}')  # a binary frame: refused, socket stays
        reply = await ws.receive_json(timeout=5)
        assert reply["ok"] is False and reply["status"] == 400 and "text frames" in reply["error"]
        assert await state(client) == before
        await ws.send_str('{"id": 2, "command": "fail", "note": "fine"}')
        reply = await ws.receive_json(timeout=5)
        if reply["type"] == "snapshot":  # the broadcast may come first
            reply = await ws.receive_json(timeout=5)
        assert reply["id"] == 2 and reply["ok"] is True and reply["rev"] == before["rev"] + 1


@pytest.mark.parametrize(("encoding", "body"), [
    ("gzip", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage-not-deflate"),
    ("gzip", gzip.compress(b'{"command": "next"}')[:-9] + b"\xff" * 9),  # a broken trailer
    ("deflate", b"not zlib at all"),
    ("gzip", b"{\"command\": \"next\"}"),  # says gzip, is not
])
async def test_a_body_with_a_broken_content_encoding_is_a_400(
    client: Client, encoding: str, body: bytes
) -> None:
    before = await running(client)
    answer = await client.post("/api/commands", data=body, headers={"Content-Encoding": encoding})
    assert answer.status == 400, await answer.text()
    assert "error" in await answer.json()
    assert await state(client) == before
    # The service is not wedged: the next command on a new connection works.
    assert (await client.post("/api/commands", json={"command": "next"})).status == 200


async def test_a_well_compressed_body_is_accepted(client: Client) -> None:
    await running(client)
    answer = await client.post("/api/commands", data=gzip.compress(b'{"command": "pause"}'),
                               headers={"Content-Encoding": "gzip"})
    assert answer.status == 200 and (await answer.json())["phase"] == "paused"


# --- tokens ------------------------------------------------------------------------------


async def test_a_missing_and_a_wrong_token_get_different_messages(token_client: Client) -> None:
    missing = await token_client.post("/api/commands", json={"command": "start"})
    wrong = await token_client.post("/api/commands?token=typ0", json={"command": "start"})
    assert missing.status == wrong.status == 401
    said_missing, said_wrong = (await missing.json())["error"], (await wrong.json())["error"]
    assert "?token=" in said_missing and "wrong token" not in said_missing
    assert said_wrong.startswith("wrong token") and "typ0" not in said_wrong
    async with token_client.ws_connect("/ws?token=typ0") as ws:
        await ws.receive_json()
        await ws.send_json({"command": "start"})
        reply = await ws.receive_json(timeout=5)
        assert reply["status"] == 401 and reply["error"] == said_wrong


# --- pages -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/overlay/timr", "/overlay/", "/overlays/timer", "/timer"])
async def test_a_mistyped_page_address_is_a_hint_naming_the_overlays(client: Client, path: str) -> None:
    answer = await client.get(path)
    assert answer.status == 404 and answer.content_type == "text/html"
    html = await answer.text()
    assert 'id="so-not-found"' in html
    assert all(f'href="/overlay/{name}"' in html for name in ("timer", "step", "failures", "deadline", "bar"))


async def test_a_trailing_slash_leads_to_the_overlay(client: Client) -> None:
    answer = await client.get("/overlay/timer/?theme=light")
    assert answer.status == 200 and answer.url.path == "/overlay/timer"
    assert answer.url.query["theme"] == "light" and "so-timer" in await answer.text()


async def test_an_unknown_api_route_answers_json(client: Client) -> None:
    answer = await client.get("/api/nope")
    assert answer.status == 404 and "error" in await answer.json()
    answer = await client.get("/api/commands")
    assert answer.status == 405 and "error" in await answer.json()


# --- the config ----------------------------------------------------------------------------


def check_config(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "overlay", "check-config", str(path)],
                          capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize(("line", "key"), [
    ("  at: 2027-02-30T18:00:00+01:00", "deadline.at (line 35)"),
    ("  at: 2027-02-30", "deadline.at (line 35)"),
])
def test_an_impossible_date_names_its_key_and_line(tmp_path: Path, line: str, key: str) -> None:
    text = (ROOT / "config.yaml").read_text().splitlines()
    assert text[34].startswith("  at: ")
    text[34] = line
    (tmp_path / "config.yaml").write_text("\n".join(text) + "\n")
    done = check_config(tmp_path / "config.yaml")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert key in done.stderr and "not a date-time" in done.stderr and "YAML" not in done.stderr


# --- the port ----------------------------------------------------------------------------


@pytest.fixture
def other_program() -> Iterator[int]:
    """Something that is not study-overlay, listening on a port."""
    port = free_port()
    httpd = http.server.HTTPServer(("127.0.0.1", port), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield port
    httpd.shutdown()
    httpd.server_close()


def test_a_port_taken_by_another_program_names_it_and_how_to_pick_another(
    tmp_path: Path, other_program: int
) -> None:
    done = serve_once(write_config(tmp_path, other_program))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"port {other_program} is taken by another program" in done.stderr
    assert "--port" in done.stderr and "server.port" in done.stderr
    assert "study-overlay" not in done.stderr.split(":", 2)[-1]  # no guess that it is ours


def test_a_port_taken_by_another_study_overlay_says_so(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = ServerProcess(write_config(tmp_path / "a", port), port).start()
    try:
        done = serve_once(write_config(tmp_path / "b", port))  # its own database, the same port
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert "a study-overlay service with another database already serves" in done.stderr
    finally:
        first.stop()


# --- the command line outside the clone ----------------------------------------------------


def outside(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI run from a folder with no config, as after installing it as a tool."""
    env = {k: v for k, v in os.environ.items() if k != "STUDY_OVERLAY_CONFIG"}
    env.update(HOME=str(folder), XDG_CONFIG_HOME=str(folder / ".config"))
    return subprocess.run([sys.executable, "-m", "overlay", *args], capture_output=True, text=True,
                          timeout=30, cwd=folder, env=env)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("served")
    port = free_port()
    proc = ServerProcess(write_config(folder, port), port).start()
    yield proc
    proc.stop()


def test_without_a_config_the_cli_says_so_and_which_address_it_tried(tmp_path: Path) -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 8754)) == 0:
            pytest.skip("a service (make run?) answers on the default port")
    done = outside(tmp_path, "next")
    assert done.returncode == 2
    assert "no config file found" in done.stderr and "http://127.0.0.1:8754" in done.stderr
    assert str(tmp_path / ".config" / "study-overlay" / "config.yaml") in done.stderr


def test_url_and_config_work_before_or_after_the_command(tmp_path: Path, served: ServerProcess) -> None:
    for args in (("--url", served.url, "status"), ("status", "--url", served.url),
                 ("--config", str(served.config), "status"), ("status", "--config", str(served.config))):
        done = outside(tmp_path, *args)
        assert done.returncode == 0 and done.stdout.startswith("status: "), (args, done.stderr)


def test_the_user_config_folder_is_found(tmp_path: Path, served: ServerProcess) -> None:
    (tmp_path / ".config" / "study-overlay").mkdir(parents=True)
    (tmp_path / ".config" / "study-overlay" / "config.yaml").write_text(served.config.read_text())
    done = outside(tmp_path, "status")
    assert done.returncode == 0 and done.stdout.startswith("status: "), done.stderr


def test_fail_repeats_its_note_and_unit_done_counts(tmp_path: Path, served: ServerProcess) -> None:
    outside(tmp_path, "--url", served.url, "start")
    done = outside(tmp_path, "--url", served.url, "fail", "forgot", "the", "base", "case")
    assert done.returncode == 0 and ": forgot the base case" in done.stdout.split(" · ")[1]
    done = outside(tmp_path, "--url", served.url, "unit-done")
    goal = served.state()["goal"]
    assert done.returncode == 0
    assert f"{goal['done']} of 8 lessons done, {8 - goal['done']} left" in done.stdout


def test_export_reads_a_database_without_a_config(tmp_path: Path, served: ServerProcess) -> None:
    served_db = served.config.parent / "study-overlay.sqlite3"
    outside(tmp_path, "--url", served.url, "start")
    outside(tmp_path, "--url", served.url, "fail", "exported")
    done = outside(tmp_path, "export", "--db", str(served_db), "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].endswith(",exported")
    done = outside(tmp_path, "export")
    assert done.returncode == 2 and "--db FILE" in done.stderr and "Traceback" not in done.stderr
