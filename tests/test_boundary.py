"""The boundary clock in process, with a clock the test moves: it wakes at the moment the state
fixes, measures the wait again after the wall clock jumps, and follows a file taken up."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from overlay.app import build_app
from overlay.config import Config
from overlay.core import focus
from overlay.runtime import boundary
from overlay.runtime.boundary import BOUNDARIES
from overlay.runtime.live import LIVE
from overlay.storage.store import Storage

from .conftest import ROUTINE, T0, FakeClock

FOCUS = "focus: {work: 50m, break: 10m, long_break: 30m, long_every: 4}\n"


@pytest.fixture
async def served(make_config: Any, clock: FakeClock) -> AsyncIterator[TestClient[Any, Any]]:
    config: Config = make_config(ROUTINE + FOCUS)
    app = build_app(config, Storage(config.storage_path, config.steps), clock=clock)
    async with TestClient(TestServer(app)) as client:
        yield client


async def command(client: TestClient[Any, Any], name: str) -> dict[str, Any]:
    answer = await client.post("/api/commands", json={"command": name})
    body: dict[str, Any] = await answer.json()
    return body


async def test_a_suspend_past_the_boundary_is_noticed_within_a_nap(
    served: TestClient[Any, Any], clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop's timers are monotonic: a laptop asleep through the boundary would wake the
    service 50 minutes late. It never sleeps longer than a nap, so it looks again."""
    monkeypatch.setattr(boundary, "NAP_S", 0.05)
    snap = await command(served, "start")
    assert snap["focus"]["phase"] == "focus"
    clocked = served.app[BOUNDARIES]
    assert clocked.wakes_at == T0 + timedelta(minutes=50)
    clock.advance(minutes=51)  # the wall clock jumped; the loop's clock did not
    for _ in range(100):  # pages show the break at once (they derive it); wait for the commit
        await asyncio.sleep(0.02)
        if served.app[LIVE].dispatcher.rev == 2:
            break
    shown = await (await served.get("/api/state")).json()
    assert shown["focus"]["phase"] == "break", shown["focus"]
    assert shown["focus"]["ends_at"] == "2026-11-24T19:00:00.000Z"  # 10 min after 18:50, not after now
    assert clocked.wakes_at == T0 + timedelta(minutes=60)


async def test_the_wait_is_never_longer_than_a_nap(served: TestClient[Any, Any]) -> None:
    await command(served, "start")
    timer = served.app[BOUNDARIES]._timer
    assert timer is not None
    assert timer.when() - asyncio.get_running_loop().time() <= boundary.NAP_S


async def test_a_file_taken_up_fixes_the_next_boundary(
    served: TestClient[Any, Any], clock: FakeClock
) -> None:
    """A copy put in place of the file (a restore) holds another cycle: the clock waits for
    that one, not for the boundary of the state it replaced."""
    config = served.app[LIVE].config
    db = config.storage_path
    await command(served, "start")
    source, backup = sqlite3.connect(db), sqlite3.connect(db.with_name("backup.sqlite3"))
    source.backup(backup)  # in focus, ending at 18:50
    source.close()
    backup.close()
    clock.advance(minutes=10)
    assert (await command(served, "skip"))["focus"]["phase"] == "break"
    clocked = served.app[BOUNDARIES]
    assert clocked.wakes_at == T0 + timedelta(minutes=20)
    shutil.copy(db.with_name("backup.sqlite3"), db.with_name("copy.sqlite3"))
    os.replace(db.with_name("copy.sqlite3"), db)
    answer = await served.post("/api/commands", json={"command": "fail"})
    assert answer.status == 503  # taken up; the command is to be sent again
    live = served.app[LIVE]
    assert live.dispatcher.rev == 1
    assert clocked.wakes_at == focus.next_boundary(live.dispatcher.state, config.focus_plans)
    assert clocked.wakes_at == T0 + timedelta(minutes=50)
