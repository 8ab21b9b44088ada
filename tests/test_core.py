"""The pure session core: each command works, and each refusal, with literal times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from overlay.core import session as core

T = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
N = 3  # steps in the routine


def at(minutes: float) -> datetime:
    return T + timedelta(minutes=minutes)


def run(*steps: tuple[float, core.Command], state: core.State | None = None) -> core.State:
    state = state or core.State()
    for minute, command in steps:
        state, _ = core.apply(state, command, at(minute), N)
    return state


def events(state: core.State, minute: float, command: core.Command) -> tuple[core.Event, ...]:
    return core.apply(state, command, at(minute), N)[1]


def mins(d: timedelta) -> float:
    return d.total_seconds() / 60


# --- start ---------------------------------------------------------------------------------


def test_start_begins_session_one_on_the_first_step() -> None:
    state = run((0, core.Start()))
    assert core.phase(state) == "running"
    assert state.session is not None
    assert (state.session.number, state.session.step) == (1, 0)
    assert mins(core.session_elapsed(state.session, at(7))) == 7


def test_start_while_a_session_runs_is_refused() -> None:
    with pytest.raises(core.SessionInProgress):
        run((0, core.Start()), (1, core.Start()))


def test_start_after_finish_begins_a_new_session_carrying_the_lifetime_total() -> None:
    state = run((0, core.Start()), (1, core.Fail("a")), (2, core.Fail("b")), (3, core.Finish()),
                (10, core.Start()), (11, core.Fail("c")))
    assert state.session is not None and state.session.number == 2
    assert len(state.session.failures) == 1
    assert core.total_failures(state) == 3


# --- next / prev / goto ----------------------------------------------------------------------


def test_next_completes_the_step_and_banks_its_time() -> None:
    state = run((0, core.Start()))
    evs = events(state, 12, core.Next())
    assert evs == (core.StepCompleted(0, timedelta(minutes=12)), core.StepChanged(0, 1))
    state = run((12, core.Next()), state=state)
    assert state.session is not None
    assert mins(core.step_elapsed(state.session, at(20))) == 8
    assert mins(core.step_elapsed(state.session, at(20), step=0)) == 12
    assert mins(core.session_elapsed(state.session, at(20))) == 20


def test_next_on_the_last_step_finishes_the_session() -> None:
    state = run((0, core.Start()), (1, core.Next()), (2, core.Next()))
    evs = events(state, 5, core.Next())
    assert isinstance(evs[-1], core.SessionFinished)
    state = run((5, core.Next()), state=state)
    assert core.phase(state) == "finished"
    assert state.session is not None
    assert mins(core.session_elapsed(state.session, at(99))) == 5  # stopped counting


def test_next_with_no_session_is_refused() -> None:
    with pytest.raises(core.NoActiveSession):
        run((0, core.Next()))


def test_next_after_finish_is_refused() -> None:
    with pytest.raises(core.NoActiveSession):
        run((0, core.Start()), (1, core.Finish()), (2, core.Next()))


def test_prev_returns_and_the_step_keeps_its_earlier_time() -> None:
    state = run((0, core.Start()), (10, core.Next()), (15, core.Prev()))
    assert state.session is not None and state.session.step == 0
    assert mins(core.step_elapsed(state.session, at(18))) == 13


def test_prev_on_the_first_step_is_refused() -> None:
    with pytest.raises(core.NoStepBefore):
        run((0, core.Start()), (1, core.Prev()))


def test_goto_jumps_to_a_step() -> None:
    state = run((0, core.Start()), (4, core.Goto(2)))
    assert state.session is not None and state.session.step == 2


def test_a_step_jumped_over_is_skipped_not_done() -> None:
    state = run((0, core.Start()), (4, core.Goto(2)))
    assert state.session is not None and core.skipped(state.session) == {1}
    assert state.session.step_times[1] == timedelta(0)


def test_going_back_to_a_skipped_step_makes_it_a_step_like_any_other() -> None:
    state = run((0, core.Start()), (4, core.Goto(2)), (5, core.Prev()), (9, core.Next()))
    assert state.session is not None and core.skipped(state.session) == frozenset()


def test_a_step_before_the_current_one_is_not_skipped_until_passed() -> None:
    state = run((0, core.Start()), (1, core.Goto(2)), (2, core.Goto(0)))
    assert state.session is not None and core.skipped(state.session) == frozenset()  # 2 is ahead


def test_finishing_early_skips_the_steps_never_reached() -> None:
    state = run((0, core.Start()), (5, core.Finish()))
    assert state.session is not None and core.skipped(state.session) == {1, 2}
    state = run((0, core.Start()), (5, core.Next()), (6, core.Next()), (7, core.Next()))
    assert state.session is not None and core.session_phase(state.session) == "finished"
    assert core.skipped(state.session) == frozenset()


def test_follow_marks_the_steps_it_jumps_over_as_skipped() -> None:
    state = run((0, core.Start()), (1, core.Pause()), (3, core.Follow(2)))
    assert state.session is not None and core.skipped(state.session) == {1}


def test_a_routine_that_lost_steps_keeps_what_was_visited() -> None:
    state = run((0, core.Start()), (1, core.Goto(2)))
    fitted = core.fit_steps(state, 2)  # step 3 is gone: the session stands on the new last one
    assert fitted.session is not None and fitted.session.step == 1
    assert fitted.session.visited == {0, 1} and core.skipped(fitted.session) == frozenset()


def test_goto_the_current_step_or_beyond_the_routine_is_refused() -> None:
    state = run((0, core.Start()))
    with pytest.raises(core.AlreadyOnStep):
        run((1, core.Goto(0)), state=state)
    with pytest.raises(core.UnknownStep):
        run((1, core.Goto(3)), state=state)


# --- pause / resume --------------------------------------------------------------------------


# --- follow (a step's scene chosen in OBS) ----------------------------------------------------


def test_follow_from_the_break_resumes_and_moves_in_one_change() -> None:
    state = run((0, core.Start()), (10, core.Pause()))
    new, evs = core.apply(state, core.Follow(2), at(15), N)
    assert evs == (core.Resumed(timedelta(minutes=5)), core.StepChanged(0, 2))
    assert core.phase(new) == "running" and new.session is not None and new.session.step == 2
    assert mins(new.session.step_times[0]) == 10  # the paused minutes count for no step
    assert mins(core.step_elapsed(new.session, at(20))) == 5


def test_follow_to_the_paused_step_only_resumes() -> None:
    state = run((0, core.Start()), (10, core.Pause()))
    new, evs = core.apply(state, core.Follow(0), at(12), N)
    assert evs == (core.Resumed(timedelta(minutes=2)),)
    assert core.phase(new) == "running" and new.session is not None and new.session.step == 0


def test_follow_while_running_moves_like_goto() -> None:
    state = run((0, core.Start()))
    assert events(state, 5, core.Follow(1)) == (core.StepChanged(0, 1),)


def test_follow_refusals() -> None:
    state = run((0, core.Start()))
    with pytest.raises(core.AlreadyOnStep):
        core.apply(state, core.Follow(0), at(1), N)
    with pytest.raises(core.UnknownStep):
        core.apply(state, core.Follow(N), at(1), N)
    with pytest.raises(core.NoActiveSession):
        core.apply(core.State(), core.Follow(1), at(1), N)


def test_pause_stops_both_clocks_and_resume_restarts_them() -> None:
    state = run((0, core.Start()), (10, core.Pause()))
    assert core.phase(state) == "paused"
    assert state.session is not None
    assert mins(core.session_elapsed(state.session, at(30))) == 10
    evs = events(state, 30, core.Resume())
    assert evs == (core.Resumed(timedelta(minutes=20)),)
    state = run((30, core.Resume()), state=state)
    assert state.session is not None
    assert mins(core.session_elapsed(state.session, at(35))) == 15
    assert mins(core.step_elapsed(state.session, at(35))) == 15
    assert state.session.pauses == 1


def test_pause_twice_and_resume_when_running_are_refused() -> None:
    state = run((0, core.Start()), (1, core.Pause()))
    with pytest.raises(core.AlreadyPaused):
        run((2, core.Pause()), state=state)
    with pytest.raises(core.NotPaused):
        run((0, core.Start()), (1, core.Resume()))
    with pytest.raises(core.NoActiveSession):
        run((0, core.Pause()))


def test_toggle_pause_alternates() -> None:
    state = run((0, core.Start()), (1, core.TogglePause()))
    assert core.phase(state) == "paused"
    state = run((2, core.TogglePause()), state=state)
    assert core.phase(state) == "running"


def test_moving_steps_while_paused_keeps_the_session_paused() -> None:
    state = run((0, core.Start()), (5, core.Pause()), (9, core.Next()))
    assert core.phase(state) == "paused"
    assert state.session is not None
    assert mins(core.step_elapsed(state.session, at(9), step=0)) == 5
    assert mins(core.step_elapsed(state.session, at(20))) == 0


# --- failures --------------------------------------------------------------------------------


def test_fail_logs_a_failure_with_its_step_time_and_note() -> None:
    state = run((0, core.Start()), (3, core.Next()))
    evs = events(state, 4, core.Fail("  mixed up the chain rule "))
    assert evs == (core.FailureLogged(core.Failure(at(4), 1, "mixed up the chain rule"), 1),)


def test_fail_with_no_session_or_a_long_note_is_refused() -> None:
    with pytest.raises(core.NoActiveSession):
        run((0, core.Fail()))
    with pytest.raises(core.NoteTooLong):
        run((0, core.Start()), (1, core.Fail("x" * 281)))


def test_undo_fail_removes_only_the_last_failure() -> None:
    state = run((0, core.Start()), (1, core.Fail("a")), (2, core.Fail("b")), (3, core.UndoFail()))
    assert state.session is not None
    assert [f.note for f in state.session.failures] == ["a"]


def test_undo_fail_with_nothing_logged_is_refused() -> None:
    with pytest.raises(core.NoFailureToUndo):
        run((0, core.Start()), (1, core.UndoFail()))
    with pytest.raises(core.NoFailureToUndo):
        run((0, core.UndoFail()))


# --- finish / reset / restore ----------------------------------------------------------------


def test_finish_while_paused_counts_no_paused_time() -> None:
    state = run((0, core.Start()), (10, core.Pause()), (50, core.Finish()))
    assert core.phase(state) == "finished"
    assert state.session is not None
    assert mins(core.session_elapsed(state.session, at(50))) == 10


def test_finish_with_no_session_is_refused() -> None:
    with pytest.raises(core.NoActiveSession):
        run((0, core.Finish()))


def test_reset_puts_the_session_aside_and_restore_brings_it_back_still_counting() -> None:
    state = run((0, core.Start()), (5, core.Next()), (6, core.Fail("x")), (8, core.Reset()))
    assert core.phase(state) == "idle"
    assert core.total_failures(state) == 1  # a reset loses no failure
    state = run((20, core.Restore()), state=state)
    assert core.phase(state) == "running"
    assert state.session is not None and state.session.step == 1
    assert mins(core.session_elapsed(state.session, at(20))) == 20
    assert core.total_failures(state) == 1


def test_reset_when_idle_and_restore_without_reset_are_refused() -> None:
    with pytest.raises(core.NothingToReset):
        run((0, core.Reset()))
    with pytest.raises(core.NothingToRestore):
        run((0, core.Restore()))
    with pytest.raises(core.NothingToRestore):
        run((0, core.Start()), (1, core.Reset()), (2, core.Start()), (3, core.Restore()))


def test_fit_steps_keeps_time_when_the_routine_shrinks() -> None:
    state = run((0, core.Start()), (5, core.Next()), (6, core.Next()), (8, core.Fail()))
    fitted = core.fit_steps(state, 2)
    assert fitted.session is not None
    assert fitted.session.step == 1
    assert mins(sum(fitted.session.step_times, timedelta(0))) == 6
    assert fitted.session.failures[0].step == 1


# --- goal units and the previous session -------------------------------------------------


def test_unit_done_and_undo_work_in_any_phase() -> None:
    state = run((0, core.CompleteUnit()), (1, core.Start()), (2, core.CompleteUnit()))
    assert state.units == (at(0), at(2))
    evs = events(state, 3, core.UndoUnit())
    assert evs == (core.UnitRemoved(1),)
    state = run((3, core.UndoUnit()), (4, core.UndoUnit()), state=state)
    assert state.units == ()


def test_unit_undo_with_none_done_is_refused() -> None:
    with pytest.raises(core.NoUnitToUndo):
        run((0, core.UndoUnit()))


def test_a_new_session_remembers_the_one_before_and_the_first_start() -> None:
    state = run((0, core.Start()), (1, core.Fail("weak spot")), (2, core.Finish()), (9, core.Start()))
    assert state.previous is not None and state.previous.number == 1
    assert [f.note for f in state.previous.failures] == ["weak spot"]
    assert state.first_started == at(0)
