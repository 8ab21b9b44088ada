"""Storage in a real SQLite file: restarts restore the session; kill -9 loses nothing acknowledged."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from overlay.config import Config, parse_config
from overlay.core import focus, views
from overlay.core import session as core
from overlay.runtime.dispatcher import Dispatcher, NotSaved
from overlay.storage import history
from overlay.storage.schema import APPLICATION_ID, VERSION
from overlay.storage.store import Storage, StorageError

from .conftest import ROUTINE, FakeClock
from .procs import ServerProcess, free_port, post, write_config


async def run(config: Config, clock: FakeClock, *commands: core.Command) -> None:
    storage = Storage(config.storage_path, config.steps)
    dispatcher = Dispatcher(config, storage, clock)
    for c in commands:
        await dispatcher.dispatch(c, "test")
        clock.advance(minutes=1)
    storage.close()


async def test_a_restart_restores_the_running_session_and_its_clocks_kept_counting(
    config: Config, clock: FakeClock
) -> None:
    await run(config, clock, core.Start(), core.Fail("one"), core.Next(), core.Fail("two"))
    clock.advance(hours=2)  # the service was down; wall time went on
    storage = Storage(config.storage_path, config.steps)
    state, rev = storage.load()
    storage.close()
    assert rev == 4
    s = state.session
    assert s is not None and core.phase(state) == "running"
    assert s.step == 1
    assert [f.note for f in s.failures] == ["one", "two"]
    assert core.session_elapsed(s, clock()) == timedelta(hours=2, minutes=4)
    assert core.step_elapsed(s, clock()) == timedelta(hours=2, minutes=2)


async def test_a_paused_session_stays_paused_across_a_restart(config: Config, clock: FakeClock) -> None:
    await run(config, clock, core.Start(), core.Pause())
    clock.advance(hours=5)
    storage = Storage(config.storage_path, config.steps)
    state, _ = storage.load()
    storage.close()
    assert core.phase(state) == "paused"
    assert state.session is not None
    assert core.session_elapsed(state.session, clock()) == timedelta(minutes=1)


async def test_history_rows_follow_the_session(config: Config, clock: FakeClock) -> None:
    await run(config, clock, core.Start(), core.Fail("a"), core.Fail("b"), core.UndoFail(),
              core.Finish(), core.Start(), core.Reset())
    db = sqlite3.connect(config.storage_path)
    rows = db.execute("SELECT number, outcome FROM sessions ORDER BY number").fetchall()
    notes = db.execute("SELECT session, seq, note FROM failures").fetchall()
    commands = db.execute("SELECT count(*) FROM commands").fetchone()[0]
    db.close()
    assert rows == [(1, "finished"), (2, "reset")]
    assert notes == [(1, 1, "a")]
    assert commands == 7


def test_a_file_that_is_not_a_database_is_refused_and_left_untouched(tmp_path: Path, config: Config) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"my precious notes\n" * 10)
    with pytest.raises(StorageError, match="not a study-overlay database"):
        Storage(path, config.steps)
    assert path.read_bytes() == b"my precious notes\n" * 10


def test_another_programs_database_is_refused_and_left_untouched(tmp_path: Path, config: Config) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(StorageError, match="another program"):
        Storage(path, config.steps)
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()


def test_a_newer_schema_is_refused(tmp_path: Path, config: Config) -> None:
    path = tmp_path / "new.db"
    Storage(path, config.steps).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(StorageError, match="newer study-overlay"):
        Storage(path, config.steps)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    db.close()


def test_kill_9_in_a_stream_of_commands_loses_nothing_acknowledged(tmp_path: Path) -> None:
    port = free_port()
    server = ServerProcess(write_config(tmp_path, port), port).start()
    acked: list[str] = []
    try:
        assert post(server.url, {"command": "start"})[0] == 200

        def stream() -> None:
            for i in range(100_000):
                try:
                    status, _ = post(server.url, {"command": "fail", "note": f"n{i}"}, timeout=2)
                except OSError:
                    return
                if status == 200:
                    acked.append(f"n{i}")

        sender = threading.Thread(target=stream)
        sender.start()
        while len(acked) < 150:
            threading.Event().wait(0.005)
        server.kill9()
        sender.join(10)
    finally:
        server.stop()
    restarted = ServerProcess(server.config, port).start()
    try:
        snap = restarted.state()
        status, after = post(restarted.url, {"command": "fail", "note": "after the crash"})
    finally:
        restarted.stop()
    db = sqlite3.connect(tmp_path / "study-overlay.sqlite3")
    notes = {row[0] for row in db.execute("SELECT note FROM failures")}
    last_rev = db.execute("SELECT max(rev) FROM commands").fetchone()[0]
    db.close()
    assert len(acked) >= 150
    assert set(acked) <= notes
    assert snap["failures"]["session"] >= len(acked)
    assert snap["phase"] == "running"
    # The file is whole: the state, the command log and the failures table agree.
    assert snap["rev"] == last_rev - 1 and snap["failures"]["session"] == len(notes) - 1
    assert status == 200 and after["rev"] == last_rev


async def test_a_commit_that_fails_halfway_changes_nothing(
    config: Config, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = Storage(config.storage_path, config.steps)
    dispatcher = Dispatcher(config, storage, clock)
    await dispatcher.dispatch(core.Start(), "test")

    def broken(*_: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(storage, "_apply_event", broken)
    with pytest.raises(NotSaved, match="disk I/O error"):
        await dispatcher.dispatch(core.Fail("lost?"), "test")
    assert dispatcher.rev == 1
    monkeypatch.undo()
    await dispatcher.dispatch(core.Fail("kept"), "test")  # the next command still works
    storage.close()
    storage = Storage(config.storage_path, config.steps)
    state, rev = storage.load()
    storage.close()
    assert rev == 2
    assert state.session is not None and [f.note for f in state.session.failures] == ["kept"]


async def test_a_reset_session_survives_a_routine_that_shrank(tmp_path: Path, make_config: Any) -> None:
    clock = FakeClock()
    config = make_config()
    await run(config, clock, core.Start(), core.Goto(2), core.Reset())
    smaller = make_config(ROUTINE.replace("  - {id: project, title: One project, scene: Project}\n", ""))
    storage = Storage(smaller.storage_path, smaller.steps)
    dispatcher = Dispatcher(smaller, storage, clock)
    change = await dispatcher.dispatch(core.Restore(), "test")
    storage.close()
    assert change.state.session is not None and change.state.session.step == 1


async def test_resetting_a_finished_session_keeps_it_finished(config: Config, clock: FakeClock) -> None:
    await run(config, clock, core.Start(), core.Finish(), core.Reset())
    db = sqlite3.connect(config.storage_path)
    rows = db.execute("SELECT number, outcome FROM sessions").fetchall()
    db.close()
    assert rows == [(1, "finished")]


# --- a database made by release 0.1.0 (schema 1) ------------------------------------------

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _shipped_config(tmp_path: Path) -> Config:
    text = (Path(__file__).resolve().parent.parent / "config.yaml").read_text() + "timezone: UTC\n"
    return parse_config(text, base_dir=tmp_path)


def test_a_release_0_1_0_database_is_migrated_with_nothing_lost(tmp_path: Path) -> None:
    """The same snapshot, history and sessions as 0.1.0 showed from the same file (made by
    tests/fixtures: a 0.1.0 run; its answers were recorded by 0.1.0 itself)."""
    path = tmp_path / "study.sqlite3"
    shutil.copy(FIXTURES / "release-0.1.0.sqlite3", path)
    expected = json.loads((FIXTURES / "release-0.1.0.expected.json").read_text())
    config = _shipped_config(tmp_path)
    now = datetime.fromisoformat(expected["now"])
    storage = Storage(path, config.steps)
    state, rev = storage.load()
    storage.close()
    assert rev == expected["rev"]
    assert views.snapshot(state, config, now, rev) == expected["snapshot"]
    assert history.history(path, config, state, now) == expected["history"]
    assert [history.read_session(path, config, n, now) for n in (1, 2, 3)] == expected["sessions"]
    # Each failure is stored once now, and a copy of the schema-1 file is kept beside it.
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == VERSION
    assert all("failures" not in json.loads(d) for (d,) in db.execute("SELECT data FROM sessions"))
    assert json.loads(db.execute("SELECT data FROM state").fetchone()[0])["session"] == 3
    assert db.execute("SELECT count(*) FROM failures").fetchone()[0] == 5
    db.close()
    backup = sqlite3.connect(tmp_path / "study.sqlite3.schema1.bak")
    assert backup.execute("PRAGMA user_version").fetchone()[0] == 1
    backup.close()


async def test_a_migrated_database_takes_the_next_command(tmp_path: Path) -> None:
    path = tmp_path / "study.sqlite3"
    shutil.copy(FIXTURES / "release-0.1.0.sqlite3", path)
    config = dataclasses.replace(_shipped_config(tmp_path), storage_path=path)
    storage = Storage(path, config.steps)
    clock = FakeClock(datetime(2026, 11, 4, 9, 0, tzinfo=UTC))
    dispatcher = Dispatcher(config, storage, clock)
    await dispatcher.dispatch(core.Resume(), "test")
    await dispatcher.dispatch(core.Fail("after the upgrade"), "test")
    storage.close()
    reopened = Storage(path, config.steps)
    state, rev = reopened.load()
    reopened.close()
    assert rev == 23 and state.session is not None
    assert [f.note for f in state.session.failures] == ["third session, still running", "after the upgrade"]
    assert core.total_failures(state) == 6


def test_a_state_naming_a_missing_session_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    config_path = write_config(tmp_path, free_port())
    db_path = tmp_path / "broken.sqlite3"
    shutil.copy(FIXTURES / "release-0.1.0.sqlite3", db_path)
    Storage(db_path, _shipped_config(tmp_path).steps).close()  # migrated to schema 2
    db = sqlite3.connect(db_path)
    db.execute("DELETE FROM failures WHERE session = 3")
    db.execute("DELETE FROM sessions WHERE number = 3")
    db.commit()
    db.close()
    done = subprocess.run(
        [sys.executable, "-m", "overlay", "--config", str(config_path), "serve", "--db", str(db_path)],
        capture_output=True, text=True, timeout=30,
    )
    assert done.returncode == 2
    assert "names session 3, which is not in the file" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_release_0_1_0_session_takes_up_focus_where_its_step_time_stands(tmp_path: Path) -> None:
    """A file from before breaks existed: no break time, and the cycle its focus time says."""
    path = tmp_path / "study.sqlite3"
    shutil.copy(FIXTURES / "release-0.1.0.sqlite3", path)
    config = parse_config(
        (Path(__file__).resolve().parent.parent / "config.yaml").read_text() + "focus: {work: 4m}\n",
        base_dir=tmp_path,
    )
    storage = Storage(path, config.steps)
    state, rev = storage.load()
    storage.close()
    s = state.session
    assert s is not None and s.break_times == (timedelta(0),) * 6 and s.cycle == focus.Cycle()
    snap = views.snapshot(state, config, datetime(2026, 11, 4, 9, 0, tzinfo=UTC), rev)
    assert snap["step"]["elapsed_s"] == 600.0  # paused 10 minutes into the first step
    assert snap["focus"] == {
        "phase": "focus", "cycle": 3, "long_every": 4, "auto": True, "running": False,
        "left_s": 120.0, "length_s": 240.0, "ends_at": None, "break_s": 0.0,
    }


def test_a_break_and_its_cycle_are_saved_and_read_back(config: Config, clock: FakeClock) -> None:
    """Committed to a real SQLite file, reopened: the same state, so the same next boundary."""
    plan = focus.Focus(work=timedelta(minutes=50), auto=False)
    plans = (plan, plan, None)
    state, rev = core.State(), 0
    storage = Storage(config.storage_path, config.steps)
    steps: list[tuple[int, core.Command]] = [
        (0, core.Start()), (10, focus.Extend()), (55, focus.CatchUp()), (58, core.Pause()),
        (60, core.Resume()), (62, focus.Shorten(timedelta(minutes=2))),
    ]
    for minute, command in steps:
        now = clock() + timedelta(minutes=minute)
        state, events = core.apply(state, command, now, len(config.steps), plans)
        rev += 1
        storage.commit_sync(rev, now, command, "test", state, events)
    storage.close()
    storage = Storage(config.storage_path, config.steps)
    loaded, loaded_rev = storage.load()
    storage.close()
    assert loaded_rev == rev
    assert loaded == state
    s = loaded.session
    assert s is not None and s.cycle.on_break and s.cycle.extra == timedelta(minutes=-2)
    assert s.break_times[0] == timedelta(minutes=5)  # 55 to 58, then 60 to 62
    assert focus.next_boundary(loaded, plans) == clock() + timedelta(minutes=65)
    db = sqlite3.connect(config.storage_path)
    logged = [json.loads(c) for (c,) in db.execute("SELECT command FROM commands ORDER BY rev")]
    db.close()
    assert logged[1:3] == [{"command": "extend", "duration": "5m"}, {"command": "catch-up"}]
