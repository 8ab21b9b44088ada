"""The routine edited while a session runs (core.routine): steps follow their ids. Pure, literal times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from overlay.core import routine, undo
from overlay.core import session as core

T = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
OLD = ("review", "lecture", "practice", "project")


def at(minutes: float) -> datetime:
    return T + timedelta(minutes=minutes)


def on_lecture() -> core.State:
    """10 min of review with a failure, then 5 min into the lecture with another."""
    state = core.State()
    for minute, command in ((0, core.Start()), (5, core.Fail("review slip")), (10, core.Next()),
                            (12, core.Fail("lecture slip"))):
        state, _ = core.apply(state, command, at(minute), len(OLD))
    return state


def minutes(s: core.Session, now: float) -> list[float]:
    return [core.step_elapsed(s, at(now), i).total_seconds() / 60 for i in range(len(s.step_times))]


def test_a_step_added_before_the_current_one_leaves_the_session_where_it_was() -> None:
    new = ("warmup", "review", "lecture", "practice", "project")
    s = routine.reroute(on_lecture(), routine.moves(OLD, new)).session
    assert s is not None
    assert new[s.step] == "lecture"
    assert minutes(s, 15) == [0, 10, 5, 0, 0]
    assert [new[f.step] for f in s.failures] == ["review", "lecture"]
    assert core.skipped(s) == {0}  # the new step was never current: it shows as passed over


def test_reordered_steps_keep_their_time_and_failures() -> None:
    new = ("lecture", "review", "project", "practice")
    s = routine.reroute(on_lecture(), routine.moves(OLD, new)).session
    assert s is not None
    assert new[s.step] == "lecture"
    assert minutes(s, 15) == [5, 10, 0, 0]
    assert [(new[f.step], f.note) for f in s.failures] == [("review", "review slip"),
                                                          ("lecture", "lecture slip")]


def test_a_removed_step_gives_its_time_and_failures_to_the_step_that_takes_its_place() -> None:
    new = ("lecture", "practice", "project")  # review is gone: lecture, after it, takes its place
    s = routine.reroute(on_lecture(), routine.moves(OLD, new)).session
    assert s is not None
    assert new[s.step] == "lecture"
    assert minutes(s, 15) == [15, 0, 0]
    assert len(s.failures) == 2 and {f.step for f in s.failures} == {0}


def test_removing_the_current_step_makes_the_next_one_current_and_the_last_falls_back() -> None:
    s = routine.reroute(on_lecture(), routine.moves(OLD, ("review", "practice", "project"))).session
    assert s is not None and s.step == 1  # practice takes the lecture's place
    assert minutes(s, 15) == [10, 5, 0]
    s = routine.reroute(on_lecture(), routine.moves(OLD, ("review",))).session
    assert s is not None and s.step == 0 and minutes(s, 15) == [15]  # nothing after: the one before


def test_the_running_clock_goes_on_counting_for_the_current_step() -> None:
    new = ("intro", *OLD)
    state = routine.reroute(on_lecture(), routine.moves(OLD, new))
    state, _ = core.apply(state, core.Next(), at(20), len(new))
    assert state.session is not None
    assert minutes(state.session, 20) == [0, 10, 10, 0, 0]
    assert new[state.session.step] == "practice"


def test_the_same_steps_in_the_same_order_move_nothing() -> None:
    m = routine.moves(OLD, OLD)
    assert m.identity
    assert not routine.moves(OLD, ("review", "lecture", "project", "practice")).identity
    assert not routine.moves(OLD, (*OLD, "extra")).identity


def test_undo_after_the_edit_goes_back_in_the_new_routine() -> None:
    state, history = core.State(), undo.History()
    for rev, (minute, command) in enumerate(((0, core.Start()), (10, core.Next())), start=1):
        after, _ = core.apply(state, command, at(minute), len(OLD))
        history = history.record(undo.Entry(command.name, rev, at(minute), state, after))
        state = after
    new = ("warmup", *OLD)
    m = routine.moves(OLD, new)
    state, history = routine.reroute(state, m), routine.reroute_history(history, m)
    back, history, _ = history.undo()
    assert back.session is not None and new[back.session.step] == "review"
    assert len(back.session.step_times) == len(new)
