"""Undo and redo of any command: the clock rule with literal times, the file after each (sessions,
failures, the command log marked undone), a restart in between, and a property test: any run of
commands undone to the start gives the start back, and redo after undo gives it all again."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from overlay.config import Config
from overlay.core import focus, undo
from overlay.core import session as core
from overlay.runtime.dispatcher import Dispatcher
from overlay.storage import history
from overlay.storage.store import Storage, StorageError

from .conftest import ROUTINE, T0, FakeClock


class Run:
    """A dispatcher on a real file, with a clock the test moves (minutes from T0)."""

    def __init__(self, config: Config) -> None:
        self.config, self.clock = config, FakeClock()
        self.storage = Storage(config.storage_path, config.steps)
        self.dispatcher = Dispatcher(config, self.storage, self.clock)

    async def at(self, minute: float, command: core.Command) -> core.State:
        self.clock.now = T0 + timedelta(minutes=minute)
        await self.dispatcher.dispatch(command, "test")
        return self.dispatcher.state

    def restart(self) -> None:
        self.storage.close()
        self.storage = Storage(self.config.storage_path, self.config.steps)
        self.dispatcher = Dispatcher(self.config, self.storage, self.clock)

    def minutes(self, step: int | None = None) -> float:
        s = self.dispatcher.state.session
        assert s is not None
        return core.step_elapsed(s, self.clock(), step) / timedelta(minutes=1)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.config.storage_path) as db:
            return db.execute(sql).fetchall()


@pytest.fixture
async def run(config: Config) -> Any:
    r = Run(config)
    yield r
    r.storage.close()


async def test_undoing_a_next_made_10_minutes_ago_credits_them_to_the_earlier_step(run: Run) -> None:
    await run.at(0, core.Start())
    await run.at(5, core.Next())
    state = await run.at(15, undo.Undo())
    assert state.session is not None and state.session.step == 0
    assert run.minutes(0) == 15 and run.minutes(1) == 0
    assert core.phase(state) == "running"


async def test_undoing_a_pause_counts_the_paused_time_as_worked(run: Run) -> None:
    await run.at(0, core.Start())
    await run.at(5, core.Pause())
    state = await run.at(15, undo.Undo())
    assert core.phase(state) == "running" and run.minutes() == 15


async def test_undoing_a_resume_leaves_it_paused_all_along(run: Run) -> None:
    await run.at(0, core.Start())
    await run.at(5, core.Pause())
    await run.at(10, core.Resume())
    state = await run.at(15, undo.Undo())
    assert core.phase(state) == "paused" and run.minutes() == 5


async def test_undoing_finish_reopens_the_session_with_the_time_since_counted(run: Run) -> None:
    await run.at(0, core.Start())
    await run.at(20, core.Finish())
    state = await run.at(30, undo.Undo())
    assert core.phase(state) == "running" and run.minutes() == 30
    assert run.rows("SELECT outcome, ended_at FROM sessions") == [("running", None)]


async def test_undoing_start_leaves_no_session_in_the_history(run: Run) -> None:
    await run.at(0, core.Start())
    await run.at(10, core.Finish())
    await run.at(20, core.Start())
    await run.at(21, core.Fail("a note"))
    await run.at(22, undo.Undo())
    state = await run.at(23, undo.Undo())
    assert state.session is not None and state.session.number == 1 and core.phase(state) == "finished"
    assert run.rows("SELECT number FROM sessions") == [(1,)]
    assert run.rows("SELECT count(*) FROM failures") == [(0,)]
    shown = history.history(run.config.storage_path, run.config, state, run.clock())
    assert [s["number"] for s in shown["sessions"]] == [1]


async def test_undo_and_redo_of_a_failure_keep_the_file_as_the_state(run: Run) -> None:
    await run.at(0, core.Start())
    await run.at(1, core.Fail("sign error"))
    await run.at(2, undo.Undo())
    assert run.rows("SELECT note FROM failures") == []
    state = await run.at(3, undo.Redo())
    assert state.session is not None and [f.note for f in state.session.failures] == ["sign error"]
    assert run.rows("SELECT note FROM failures") == [("sign error",)]
    assert run.rows("SELECT rev, undone FROM commands ORDER BY rev") == [(1, 0), (2, 0), (3, 0), (4, 0)]
    await run.at(4, undo.Undo())
    assert run.rows("SELECT undone FROM commands WHERE rev = 2") == [(1,)]  # marked, not deleted


async def test_a_new_command_ends_redo_and_an_empty_history_refuses(run: Run) -> None:
    with pytest.raises(undo.NothingToUndo):
        await run.at(0, undo.Undo())
    await run.at(0, core.Start())
    await run.at(1, core.Next())
    await run.at(2, undo.Undo())
    await run.at(3, core.Fail(""))
    with pytest.raises(undo.NothingToRedo):
        await run.at(4, undo.Redo())


async def test_undo_survives_a_restart(run: Run) -> None:
    await run.at(0, core.Start())
    await run.at(5, core.Next())
    await run.at(6, core.Next())
    await run.at(7, undo.Undo())
    run.restart()
    assert [e.command for e in run.dispatcher.history.done] == ["start", "next"]
    assert [e.command for e in run.dispatcher.history.undone] == ["next"]
    state = await run.at(8, undo.Redo())
    assert state.session is not None and state.session.step == 2


async def test_only_the_last_50_can_be_undone(run: Run) -> None:
    await run.at(0, core.Start())
    for i in range(60):
        await run.at(1 + i / 100, core.Fail(str(i)))
    assert len(run.dispatcher.history.done) == undo.LIMIT
    assert run.rows("SELECT count(*) FROM undo") == [(undo.LIMIT,)]


async def test_the_service_crossing_a_boundary_is_not_a_step_of_the_history(
    make_config: Callable[..., Config]
) -> None:
    r = Run(make_config(ROUTINE + "focus: {work: 50m}\n"))
    try:
        await r.at(0, core.Start())
        await r.at(10, core.Fail("x"))
        await r.at(50, focus.CatchUp())  # the break
        assert [e.command for e in r.dispatcher.history.done] == ["start", "fail"]
        state = await r.at(51, undo.Undo())  # the fail: the state from 10:00, the break to cross again
        assert state.session is not None and state.session.failures == () and not state.session.cycle.on_break
    finally:
        r.storage.close()


# --- property: undo everything gives the start back; redo everything gives the end back --------

COMMANDS = st.sampled_from([
    core.Start(), core.Next(), core.Prev(), core.Goto(2), core.Pause(), core.Resume(), core.TogglePause(),
    core.Fail("a"), core.Fail("b"), core.UndoFail(), core.Finish(), core.Reset(), core.Restore(),
    core.CompleteUnit(), core.UndoUnit(),
])


@given(st.lists(st.tuples(COMMANDS, st.integers(0, 30)), max_size=25))
def test_undo_everything_then_redo_everything(tmp_path_factory: pytest.TempPathFactory,
                                              steps: list[tuple[core.Command, int]]) -> None:
    import asyncio

    from overlay.config import parse_config

    folder = tmp_path_factory.mktemp("undo")
    config = parse_config(ROUTINE + f"storage: {{path: {folder / 's.sqlite3'}}}\n", base_dir=folder)

    async def go() -> None:
        r = Run(config)
        try:
            start = r.dispatcher.state
            minute, done = 0.0, 0
            for command, gap in steps:
                minute += gap
                try:
                    await r.at(minute, command)
                    done += 1
                except core.Refused:
                    pass
            end = r.dispatcher.state
            shown_end = history.history(config.storage_path, config, end, r.clock())
            kept = min(done, undo.LIMIT)
            for _ in range(kept):
                await r.at(minute, undo.Undo())
            if done <= undo.LIMIT:
                assert r.dispatcher.state == start
            r.restart()  # the history is in the file
            for _ in range(kept):
                await r.at(minute, undo.Redo())
            assert r.dispatcher.state == end
            assert history.history(config.storage_path, config, r.dispatcher.state, r.clock()) == shown_end
        finally:
            r.storage.close()

    asyncio.run(go())


# --- what a command writes does not grow with the session (storage/chains.py) ---------------


async def test_an_undo_entry_is_as_small_at_the_300th_failure_as_at_the_10th(run: Run) -> None:
    await run.at(0, core.Start())
    sizes = {}
    for i in range(1, 301):
        await run.at(i / 60, core.Fail(f"note {i}: " + "x" * 270))  # 280-character notes
        if i in (10, 300):
            (size,) = run.rows("SELECT length(before) + length(after) FROM undo ORDER BY rev DESC LIMIT 1")[0]
            sizes[i] = size
    assert sizes[300] < sizes[10] + 64, sizes  # a few digits more, never the notes again
    assert run.rows("SELECT count(*) FROM failure_nodes") == [(300,)]  # each failure written once
    run.restart()  # read back, the lists are equal to the state's, not the same objects
    await run.at(6, core.Fail("after a restart"))
    assert run.rows("SELECT count(*) FROM failure_nodes") == [(301,)]


async def test_undo_and_redo_of_failures_give_the_notes_back_after_a_restart(run: Run) -> None:
    await run.at(0, core.Start())
    for i in range(5):
        await run.at(i + 1, core.Fail(f"n{i}"))
    await run.at(6, core.UndoFail())
    await run.at(7, core.Fail("after the undo-fail"))
    for minute in (8, 9, 10):
        await run.at(minute, undo.Undo())  # back past the fail, the undo-fail, and n4
    run.restart()
    s = run.dispatcher.state.session
    assert s is not None and [f.note for f in s.failures] == ["n0", "n1", "n2", "n3"]
    notes = []
    for minute in (11, 12, 13):  # each state as the file kept it: n4 back, gone again, the new one
        await run.at(minute, undo.Redo())
        s = run.dispatcher.state.session
        assert s is not None
        notes.append([f.note for f in s.failures])
    assert notes == [["n0", "n1", "n2", "n3", "n4"], ["n0", "n1", "n2", "n3"],
                     ["n0", "n1", "n2", "n3", "after the undo-fail"]]
    assert run.rows("SELECT note FROM failures ORDER BY seq") == [
        ("n0",), ("n1",), ("n2",), ("n3",), ("after the undo-fail",)]


async def test_undo_entries_written_by_schema_3_are_still_read(run: Run) -> None:
    await run.at(0, core.Start())
    await run.at(1, core.Fail("kept in full"))
    run.storage.close()
    with sqlite3.connect(run.config.storage_path) as db:  # as schema 3 wrote them: the list in full
        for rev, before, after in db.execute("SELECT rev, before, after FROM undo").fetchall():
            fixed = []
            for text in (before, after):
                d = json.loads(text)
                for sd in d["sessions"].values():
                    head = sd.pop("failures_head")
                    sd["failures"] = [[at, step, note] for at, step, note in db.execute(
                        "WITH RECURSIVE c(id, parent, at, step, note) AS "
                        "(SELECT * FROM failure_nodes WHERE id = ? "
                        "UNION ALL SELECT n.* FROM failure_nodes n JOIN c ON n.id = c.parent) "
                        "SELECT at, step, note FROM c ORDER BY id", (head,))] if head else []
                fixed.append(json.dumps(d))
            db.execute("UPDATE undo SET before = ?, after = ? WHERE rev = ?", (*fixed, rev))
        db.execute("DROP TABLE failure_nodes")
        db.execute("PRAGMA user_version = 3")
    run.restart()  # migrated to schema 4, the old entries read as they are
    await run.at(2, undo.Undo())
    s = run.dispatcher.state.session
    assert s is not None and s.failures == ()
    await run.at(3, undo.Redo())
    s = run.dispatcher.state.session
    assert s is not None and [f.note for f in s.failures] == ["kept in full"]


async def test_an_undo_history_that_cannot_be_read_is_a_storage_error_not_a_traceback(run: Run) -> None:
    await run.at(0, core.Start())
    await run.at(1, core.Fail("one"))
    run.storage.close()
    with sqlite3.connect(run.config.storage_path) as db:
        db.execute("DELETE FROM failure_nodes")  # a chain broken by hand
    run.storage = Storage(run.config.storage_path, run.config.steps)
    with pytest.raises(StorageError, match="cannot read its undo history"):
        Dispatcher(run.config, run.storage, run.clock)
