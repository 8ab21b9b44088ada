"""A step jumped over is skipped, everywhere a user looks: snapshot, /history, export."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from overlay.app import build_app
from overlay.core.settings import Config
from overlay.storage.store import Storage

from .conftest import FakeClock

Client = TestClient[Any, Any]


async def post(client: Client, body: dict[str, Any]) -> dict[str, Any]:
    answer = await client.post("/api/commands", json=body)
    assert answer.status == 200, await answer.text()
    return dict(await answer.json())


async def test_a_jumped_over_step_is_skipped_in_the_snapshot_history_and_export(
    config: Config, clock: FakeClock, tmp_path: Path
) -> None:
    app = build_app(config, Storage(config.storage_path, config.steps), clock=clock)
    async with TestClient(TestServer(app)) as client:
        await post(client, {"command": "start"})
        clock.advance(minutes=5)
        snap = await post(client, {"command": "goto", "step": 3})
        assert [st["state"] for st in snap["steps"]] == ["done", "skipped", "current"]
        clock.advance(minutes=20)
        snap = await post(client, {"command": "finish"})
        assert [st["state"] for st in snap["steps"]] == ["done", "skipped", "done"]
        detail = await (await client.get("/api/sessions/1")).json()
        assert [st["skipped"] for st in detail["steps"]] == [False, True, False]
        page = await (await client.get("/history/1")).text()
        row = page.split("Watch the lecture", 1)[1].split("</tr>", 1)[0]
        assert "skipped" in row and "\u2212" not in row  # no "-45:00" under target
    # After a restart, still skipped.
    app = build_app(config, Storage(config.storage_path, config.steps), clock=clock)
    async with TestClient(TestServer(app)) as client:
        snap = await (await client.get("/api/state")).json()
        assert [st["state"] for st in snap["steps"]] == ["done", "skipped", "done"]
    done = subprocess.run(
        [sys.executable, "-m", "overlay", "export", "--db", str(config.storage_path), "--format", "md"],
        capture_output=True, text=True, timeout=30, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "| skipped |" in done.stdout
