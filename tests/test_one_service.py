"""One service per database, and a service that never stays wedged by what happens to its file."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from overlay.app import build_app
from overlay.core.session import State
from overlay.core.settings import Config
from overlay.runtime.live import LIVE
from overlay.storage.store import Storage

from .conftest import FakeClock
from .procs import ServerProcess, free_port, post, serve_once, write_config


def test_a_second_service_on_the_same_file_refuses_and_names_the_first(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, port)
    db = tmp_path / "study-overlay.sqlite3"
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "alias.sqlite3").symlink_to(db)
    first = ServerProcess(config, port).start()
    try:
        assert post(first.url, {"command": "start"})[0] == 200
        for db_arg, cwd in ((str(db), None), ("study-overlay.sqlite3", tmp_path),
                            ("elsewhere/alias.sqlite3", tmp_path)):
            second = serve_once(config, "--port", str(free_port()), "--db", db_arg, cwd=cwd)
            assert second.returncode == 2, second.stdout + second.stderr
            assert "Traceback" not in second.stderr
            assert db_arg in second.stderr and first.url in second.stderr, second.stderr
            assert "one service per database" in second.stderr.lower()
        # The first goes on as if nothing happened, and readers still read.
        status, snap = post(first.url, {"command": "fail", "note": "still mine"})
        assert status == 200 and snap["failures"]["session"] == 1
        export = subprocess.run(
            [sys.executable, "-m", "overlay", "export", "--db", str(db), "--format", "json"],
            capture_output=True, text=True, timeout=30, cwd=tmp_path / "elsewhere",
        )
        assert export.returncode == 0, export.stderr
        assert [f["note"] for f in json.loads(export.stdout)["failure_log"]] == ["still mine"]
    finally:
        first.stop()


def test_the_file_is_free_again_once_its_service_is_killed(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, port)
    first = ServerProcess(config, port).start()
    assert post(first.url, {"command": "start"})[0] == 200
    first.kill9()  # the kernel drops the lock with the process
    again = ServerProcess(config, port).start()
    try:
        assert again.state()["phase"] == "running"
    finally:
        again.stop()


# --- whatever happens to the file underneath ----------------------------------------------


async def _client(config: Config, clock: FakeClock) -> TestClient[Any, Any]:
    app = build_app(config, Storage(config.storage_path, config.steps), clock=clock)
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    return client


def on_disk(config: Config) -> tuple[State, int]:
    """The state and rev the file holds, read as the next start would."""
    storage = Storage(config.storage_path, config.steps)
    try:
        return storage.load()
    finally:
        storage.close()


async def _command(client: TestClient[Any, Any], body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    answer = await client.post("/api/commands", json=body)
    return answer.status, await answer.json()


async def test_a_write_by_another_program_is_taken_up_not_a_wedge(
    config: Config, clock: FakeClock
) -> None:
    client = await _client(config, clock)
    try:
        assert (await _command(client, {"command": "start"}))[0] == 200
        # Another program (an older study-overlay, a hand edit) commits rev 2 under us.
        other = sqlite3.connect(config.storage_path)
        with other:
            other.execute("INSERT INTO commands (rev, at, command, door) VALUES "
                          "(2, '2026-11-01T10:00:00+00:00', '{\"command\": \"pause\"}', 'cli')")
            data = json.loads(other.execute("SELECT data FROM state").fetchone()[0])
            other.execute("UPDATE state SET rev = 2, data = ?", (json.dumps(data),))
        other.close()
        status, body = await _command(client, {"command": "fail", "note": "lost?"})
        assert status == 503 and "another program wrote to" in body["error"], body
        shown = await (await client.get("/api/state")).json()
        assert shown["rev"] == 2 and shown["failures"]["session"] == 0
        status, body = await _command(client, {"command": "fail", "note": "again"})
        assert status == 200 and body["rev"] == 3 and body["failures"]["session"] == 1
    finally:
        await client.close()


async def test_a_file_moved_away_refuses_commands_until_it_is_back(
    config: Config, clock: FakeClock
) -> None:
    client = await _client(config, clock)
    db = config.storage_path
    try:
        assert (await _command(client, {"command": "start"}))[0] == 200
        os.rename(db, db.with_name("moved.sqlite3"))
        status, body = await _command(client, {"command": "fail"})
        assert status == 503 and "is gone" in body["error"], body
        assert (await (await client.get("/api/state")).json())["failures"]["session"] == 0
        os.rename(db.with_name("moved.sqlite3"), db)
        status, body = await _command(client, {"command": "fail", "note": "back"})
        assert status == 200 and body["rev"] == 2 and body["failures"]["session"] == 1
    finally:
        await client.close()
    state, rev = on_disk(config)
    assert rev == 2 and state.session is not None and state.session.failures[0].note == "back"


async def test_a_file_restored_from_a_copy_is_taken_up(config: Config, clock: FakeClock) -> None:
    client = await _client(config, clock)
    db = config.storage_path
    try:
        assert (await _command(client, {"command": "start"}))[0] == 200
        source, backup = sqlite3.connect(db), sqlite3.connect(db.with_name("backup.sqlite3"))
        source.backup(backup)  # the file as it was at rev 1
        source.close()
        backup.close()
        assert (await _command(client, {"command": "fail", "note": "after the backup"}))[0] == 200
        shutil.copy(db.with_name("backup.sqlite3"), db.with_name("copy.sqlite3"))
        os.replace(db.with_name("copy.sqlite3"), db)
        async with client.ws_connect("/ws") as ws:
            await ws.receive_json()
            await ws.send_json({"id": 7, "command": "fail", "note": "on the copy"})
            # Shown while it was being saved, then the socket that asked hears why, first.
            while (reply := await ws.receive_json(timeout=5))["type"] != "result":
                assert reply["type"] == "snapshot" and reply["rev"] == 3
            assert (reply["id"], reply["status"]) == (7, 503), reply
            assert "another file was put in place" in reply["error"]
            # The rev went back: pages are told to start over, with a close frame.
            closing = await ws.receive()
            assert (closing.type, closing.data) == (WSMsgType.CLOSE, 1012), closing
        shown = await (await client.get("/api/state")).json()
        assert shown["rev"] == 1 and shown["failures"]["session"] == 0
        status, body = await _command(client, {"command": "fail", "note": "on the copy"})
        assert status == 200 and body["rev"] == 2 and body["failures"]["session"] == 1
    finally:
        await client.close()
    # The old file's journal was not applied to the copy, then or after the service stopped.
    state, rev = on_disk(config)
    assert rev == 2 and state.session is not None
    assert [f.note for f in state.session.failures] == ["on the copy"]


async def test_pages_are_shown_what_a_file_written_underneath_holds_also_after_a_failed_commit(
    config: Config, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a failed commit, changes are shown only once saved; a file taken up then is still
    what pages are shown, not the state from before it."""
    client = await _client(config, clock)
    try:
        assert (await _command(client, {"command": "start"}))[0] == 200
        storage = client.app[LIVE].dispatcher.storage

        def disk_error(*_: object) -> None:
            raise sqlite3.OperationalError("disk I/O error")

        with monkeypatch.context() as m:
            m.setattr(storage, "_apply_event", disk_error)
            assert (await _command(client, {"command": "fail"}))[0] == 503
        async with client.ws_connect("/ws?patch=1") as page:
            mine = await page.receive_json(timeout=5)
            assert (mine["rev"], mine["phase"]) == (1, "running")
            other = sqlite3.connect(config.storage_path)  # another program mutes, at rev 2
            with other:
                other.execute("INSERT INTO commands (rev, at, command, door) VALUES "
                              "(2, '2026-11-24T18:00:00+00:00', '{\"command\": \"mute\"}', 'cli')")
                data = json.loads(other.execute("SELECT data FROM state").fetchone()[0])
                data["muted"] = True
                other.execute("UPDATE state SET rev = 2, data = ?", (json.dumps(data),))
            other.close()
            status, body = await _command(client, {"command": "fail", "note": "lost?"})
            assert status == 503 and "another program wrote to" in body["error"], body
            shown = await page.receive_json(timeout=5)  # in full: the first after connecting
            assert (shown["type"], shown["rev"], shown["sound"]["muted"]) == ("snapshot", 2, True)
    finally:
        await client.close()
