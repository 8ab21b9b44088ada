"""Focus and break cycles inside a step: the pure core, with literal times (50/10, a long break of
30 after every 4th focus), one small group per command and each refusal."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from overlay.config import parse_config
from overlay.core import focus, views
from overlay.core import session as core
from overlay.core.focus import Focus

T = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
N = 3  # steps in the routine
PLAN = Focus(work=timedelta(minutes=50), break_=timedelta(minutes=10),
             long_break=timedelta(minutes=30), long_every=4, auto=True)
PLANS = (PLAN, PLAN, None)  # the third step has no focus
WAITS = (replace(PLAN, auto=False), PLAN, None)  # the first step's next focus waits


def at(minutes: float) -> datetime:
    return T + timedelta(minutes=minutes)


def m(minutes: float) -> timedelta:
    return timedelta(minutes=minutes)


def apply(
    state: core.State, minute: float, command: core.Command, plans: focus.Plans = PLANS
) -> tuple[core.State, tuple[core.Event, ...]]:
    return core.apply(state, command, at(minute), N, plans)


def run(*steps: tuple[float, core.Command], state: core.State | None = None,
        plans: focus.Plans = PLANS) -> core.State:
    state = state or core.State()
    for minute, command in steps:
        state, _ = apply(state, minute, command, plans)
    return state


def session(state: core.State) -> core.Session:
    assert state.session is not None
    return state.session


def where(state: core.State, minute: float, plans: focus.Plans = PLANS) -> tuple[str, int, float]:
    """(phase, cycle, minutes left) as a view shows it at `minute`."""
    s = session(core.caught_up(state, at(minute), plans))
    plan = plans[s.step]
    assert plan is not None
    p = focus.position(s, plan, at(minute))
    return p.phase, p.cycle, p.left / m(1)


def boundary(state: core.State, plans: focus.Plans = PLANS) -> float | None:
    """next_boundary in minutes from T."""
    b = focus.next_boundary(state, plans)
    return None if b is None else (b - T) / m(1)


def step_minutes(state: core.State, minute: float, step: int | None = None) -> float:
    return core.step_elapsed(session(state), at(minute), step) / m(1)


def break_minutes(state: core.State, minute: float, step: int | None = None) -> float:
    return core.break_elapsed(session(state), at(minute), step) / m(1)


# --- the boundaries --------------------------------------------------------------------------


def test_50_10_with_a_long_break_of_30_after_every_4th_focus() -> None:
    state = run((0, core.Start()))
    seen = []
    while (b := boundary(state)) is not None and b <= 320:
        state, events = apply(state, b, focus.CatchUp())
        seen.append((b, *where(state, b)[:2], len(events)))
    assert seen == [
        (50, "break", 1, 1), (60, "focus", 2, 1), (110, "break", 2, 1), (120, "focus", 3, 1),
        (170, "break", 3, 1), (180, "focus", 4, 1), (230, "long_break", 4, 1), (260, "focus", 5, 1),
        (310, "break", 5, 1), (320, "focus", 6, 1),
    ]
    assert step_minutes(state, 320) == 250  # five focus periods: the breaks are kept apart
    assert break_minutes(state, 320) == 70  # 10 + 10 + 10 + 30 + 10
    assert core.session_elapsed(session(state), at(320)) == m(250)


def test_the_boundary_events_say_what_ended_and_when() -> None:
    state = run((0, core.Start()))
    state, events = apply(state, 50, focus.CatchUp())
    assert events == (focus.BreakStarted(step=0, cycle=1, long=False, at=at(50)),)
    state, events = apply(state, 60, focus.CatchUp())
    assert events == (focus.BreakEnded(step=0, cycle=1, at=at(60), waiting=False),)


def test_the_step_clock_stands_still_during_a_break() -> None:
    state = run((0, core.Start()), (50, focus.CatchUp()))
    assert (step_minutes(state, 55), break_minutes(state, 55)) == (50, 5)
    state = run((60, focus.CatchUp()), state=state)
    assert (step_minutes(state, 75), break_minutes(state, 75)) == (65, 10)
    assert where(state, 75) == ("focus", 2, 35)


def test_a_late_wake_crosses_every_boundary_due_each_at_its_own_moment() -> None:
    state = run((0, core.Start()))
    state, events = apply(state, 125, focus.CatchUp())  # the service was down from 40 to 125
    assert events == (
        focus.BreakStarted(0, 1, False, at(50)), focus.BreakEnded(0, 1, at(60), waiting=False),
        focus.BreakStarted(0, 2, False, at(110)), focus.BreakEnded(0, 2, at(120), waiting=False),
    )
    assert where(state, 125) == ("focus", 3, 45)
    assert boundary(state) == 170
    assert (step_minutes(state, 125), break_minutes(state, 125)) == (105, 20)


# --- catch-up: once, and only once ------------------------------------------------------------


def test_catch_up_twice_at_the_same_moment_changes_nothing_the_second_time() -> None:
    state = run((0, core.Start()), (50, focus.CatchUp()))
    with pytest.raises(focus.NoBoundaryDue):
        apply(state, 50, focus.CatchUp())
    assert boundary(state) == 60  # the break's end, not the focus end again


def test_a_restart_after_the_boundary_was_saved_finds_the_next_one() -> None:
    """What a restart after kill -9 sees: the saved state alone fixes the next boundary."""
    saved = run((0, core.Start()), (50, focus.CatchUp()))
    assert boundary(saved) == 60
    with pytest.raises(focus.NoBoundaryDue):
        apply(saved, 58, focus.CatchUp())  # woken early: nothing is due yet
    restarted, events = apply(saved, 61, focus.CatchUp())
    assert events == (focus.BreakEnded(0, 1, at(60), waiting=False),)  # at 60, not at 61
    assert where(restarted, 61) == ("focus", 2, 49)


def test_a_restart_before_the_boundary_was_saved_crosses_it_at_its_moment() -> None:
    saved = run((0, core.Start()))
    assert boundary(saved) == 50
    state, events = apply(saved, 52, focus.CatchUp())
    assert events == (focus.BreakStarted(0, 1, False, at(50)),)
    assert where(state, 52) == ("break", 1, 8)


def test_catch_up_with_nothing_due_is_refused() -> None:
    with pytest.raises(focus.NoBoundaryDue):
        apply(run((0, core.Start())), 49, focus.CatchUp())
    with pytest.raises(focus.NoBoundaryDue):
        apply(run((0, core.Start()), (1, core.Next()), (2, core.Next())), 200, focus.CatchUp())
    with pytest.raises(core.NoActiveSession):
        apply(core.State(), 0, focus.CatchUp())


def test_any_command_crosses_the_boundaries_due_first() -> None:
    state = run((0, core.Start()))
    state, events = apply(state, 55, core.Pause())  # the service had not woken at 50 yet
    assert events == (focus.BreakStarted(0, 1, False, at(50)), core.Paused(0))
    assert (step_minutes(state, 70), break_minutes(state, 70)) == (50, 5)


# --- pause -------------------------------------------------------------------------------------


def test_a_pause_inside_a_focus_moves_its_end_by_the_paused_time() -> None:
    state = run((0, core.Start()), (20, core.Pause()))
    assert boundary(state) is None  # nothing ends while paused
    assert where(state, 30) == ("focus", 1, 30)
    state = run((35, core.Resume()), state=state)
    assert boundary(state) == 65
    state = run((65, focus.CatchUp()), state=state)
    assert boundary(state) == 75


def test_a_pause_inside_a_break_moves_its_end_by_the_paused_time() -> None:
    state = run((0, core.Start()), (50, focus.CatchUp()), (52, core.Pause()))
    assert boundary(state) is None
    state = run((60, core.Resume()), state=state)
    assert boundary(state) == 68
    assert (step_minutes(state, 68), break_minutes(state, 68)) == (50, 10)


# --- skip -------------------------------------------------------------------------------------


def test_skip_ends_the_focus_now_and_its_break_starts() -> None:
    state, events = apply(run((0, core.Start())), 20, focus.Skip())
    assert events == (focus.BreakStarted(0, 1, False, at(20)),)
    assert where(state, 20) == ("break", 1, 10)
    assert boundary(state) == 30
    state = run((30, focus.CatchUp()), state=state)
    assert boundary(state) == 80  # a whole focus again
    assert step_minutes(state, 80) == 70


def test_skip_ends_the_break_now_and_the_next_focus_starts() -> None:
    state = run((0, core.Start()), (50, focus.CatchUp()))
    state, events = apply(state, 53, focus.Skip())
    assert events == (focus.BreakEnded(0, 1, at(53), waiting=False),)
    assert where(state, 53) == ("focus", 2, 50)
    assert boundary(state) == 103
    assert break_minutes(state, 103) == 3


def test_skip_while_paused_changes_the_phase_and_stays_paused() -> None:
    state = run((0, core.Start()), (10, core.Pause()), (12, focus.Skip()))
    assert core.phase(state) == "paused"
    assert where(state, 30) == ("break", 1, 10)
    state = run((40, core.Resume()), state=state)
    assert boundary(state) == 50


# --- extend and shorten ------------------------------------------------------------------------


def test_extend_adds_five_minutes_by_default_or_the_duration_given() -> None:
    state, events = apply(run((0, core.Start())), 10, focus.Extend())
    assert events == (focus.CycleAdjusted(0, "focus", m(5)),)
    assert boundary(state) == 55
    state = run((12, focus.Extend(m(10))), state=state)
    assert boundary(state) == 65
    assert where(state, 15) == ("focus", 1, 50)


def test_extend_a_break() -> None:
    state = run((0, core.Start()), (50, focus.CatchUp()), (55, focus.Extend()))
    assert boundary(state) == 65
    assert where(state, 55) == ("break", 1, 10)


def test_an_extension_lasts_one_focus() -> None:
    state = run((0, core.Start()), (10, focus.Extend()), (55, focus.CatchUp()), (65, focus.CatchUp()))
    assert boundary(state) == 115


def test_shorten_takes_five_minutes_by_default_or_the_duration_given() -> None:
    state, events = apply(run((0, core.Start())), 10, focus.Shorten())
    assert events == (focus.CycleAdjusted(0, "focus", -m(5)),)
    assert boundary(state) == 45
    state = run((12, focus.Shorten(m(20))), state=state)
    assert boundary(state) == 25


def test_shorten_past_what_is_left_ends_it_now_never_below_zero() -> None:
    state, events = apply(run((0, core.Start())), 48, focus.Shorten())
    assert events == (focus.CycleAdjusted(0, "focus", -m(5)), focus.BreakStarted(0, 1, False, at(48)))
    assert where(state, 48) == ("break", 1, 10)
    assert boundary(state) == 58


def test_shorten_by_exactly_what_is_left_ends_it_now() -> None:
    state, events = apply(run((0, core.Start())), 45, focus.Shorten())
    assert events[-1] == focus.BreakStarted(0, 1, False, at(45))  # in this change, not the next
    assert session(state).cycle.on_break


def test_shorten_a_break_to_nothing_starts_the_next_focus() -> None:
    state = run((0, core.Start()), (50, focus.CatchUp()), (58, focus.Shorten()))
    assert where(state, 58) == ("focus", 2, 50)
    assert break_minutes(state, 58) == 8


# --- a step change ---------------------------------------------------------------------------


def test_a_step_change_inside_a_break_ends_the_break() -> None:
    state = run((0, core.Start()), (50, focus.CatchUp()))
    state, events = apply(state, 55, core.Next())
    assert events == (focus.BreakEnded(0, 1, at(55), waiting=False), core.StepCompleted(0, m(50)),
                      core.StepChanged(0, 1))
    assert where(state, 55) == ("focus", 1, 50)
    assert boundary(state) == 105
    assert (step_minutes(state, 60, 0), break_minutes(state, 60, 0)) == (50, 5)
    assert (step_minutes(state, 60), break_minutes(state, 60)) == (5, 0)


def test_back_on_a_step_its_cycle_is_where_its_focus_time_says() -> None:
    state = run((0, core.Start()), (50, focus.CatchUp()), (55, core.Next()), (70, core.Prev()))
    assert where(state, 70) == ("focus", 2, 50)  # 50 minutes of focus: the second one
    state = run((90, core.Goto(1)), (100, core.Goto(0)), state=state)
    assert where(state, 100) == ("focus", 2, 30)
    assert boundary(state) == 130


def test_goto_and_prev_inside_a_break_end_it_too() -> None:
    state = run((0, core.Start()), (1, core.Next()), (51, focus.CatchUp()))
    _, events = apply(state, 52, core.Prev())
    assert isinstance(events[0], focus.BreakEnded)
    _, events = apply(state, 52, core.Goto(2))
    assert isinstance(events[0], focus.BreakEnded)


def test_a_step_without_focus_has_no_cycle() -> None:
    state = run((0, core.Start()), (5, core.Goto(2)))
    assert boundary(state) is None
    assert step_minutes(state, 500) == 495


def test_the_steps_scene_chosen_in_obs_during_a_break_ends_it() -> None:
    state = run((0, core.Start()), (50, focus.CatchUp()))
    state, events = apply(state, 54, core.Follow(0))
    assert events == (focus.BreakEnded(0, 1, at(54), waiting=False),)
    assert where(state, 54) == ("focus", 2, 50)
    with pytest.raises(core.AlreadyOnStep):
        apply(state, 55, core.Follow(0))


def test_finish_inside_a_break_keeps_the_break_apart() -> None:
    state = run((0, core.Start()), (50, focus.CatchUp()), (54, core.Finish()))
    assert (step_minutes(state, 99), break_minutes(state, 99)) == (50, 4)
    assert boundary(state) is None


# --- auto: false ------------------------------------------------------------------------------


def test_with_auto_off_the_break_ends_and_the_next_focus_waits_for_resume() -> None:
    state = run((0, core.Start()), (50, focus.CatchUp()), plans=WAITS)
    state, events = apply(state, 60, focus.CatchUp(), WAITS)
    assert events == (focus.BreakEnded(0, 1, at(60), waiting=True),)
    assert where(state, 70, WAITS) == ("break_over", 1, 0)
    assert core.phase(state) == "paused"
    assert boundary(state, WAITS) is None
    assert (step_minutes(state, 70), break_minutes(state, 70)) == (50, 10)  # the wait is neither
    state, events = apply(state, 70, core.Resume(), WAITS)
    assert events == (core.Resumed(m(10)),)
    assert where(state, 70, WAITS) == ("focus", 2, 50)
    assert boundary(state, WAITS) == 120
    assert session(state).pauses == 0  # the streamer never pressed pause


def test_with_auto_off_next_moves_on_and_runs() -> None:
    state = run((0, core.Start()), (50, focus.CatchUp()), (60, focus.CatchUp()), plans=WAITS)
    state, events = apply(state, 70, core.Next(), WAITS)
    assert events == (core.Resumed(m(10)), core.StepCompleted(0, m(50)), core.StepChanged(0, 1))
    assert core.phase(state) == "running"
    assert boundary(state, WAITS) == 120


def test_with_auto_off_toggle_pause_starts_the_next_focus() -> None:
    state = run((0, core.Start()), (50, focus.CatchUp()), (60, focus.CatchUp()), (65, core.TogglePause()),
                plans=WAITS)
    assert where(state, 65, WAITS) == ("focus", 2, 50)


def test_with_auto_off_a_break_the_streamer_skips_goes_straight_to_focus() -> None:
    state = run((0, core.Start()), (50, focus.CatchUp()), (55, focus.Skip()), plans=WAITS)
    assert core.phase(state) == "running"
    assert where(state, 55, WAITS) == ("focus", 2, 50)


def test_with_auto_off_a_break_over_is_not_paused_again_nor_skipped() -> None:
    state = run((0, core.Start()), (50, focus.CatchUp()), (60, focus.CatchUp()), plans=WAITS)
    with pytest.raises(core.AlreadyPaused):
        apply(state, 61, core.Pause(), WAITS)
    for command in (focus.Skip(), focus.Extend(), focus.Shorten()):
        with pytest.raises(focus.BreakIsOver):
            apply(state, 61, command, WAITS)


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [focus.Skip(), focus.Extend(), focus.Shorten()])
def test_skip_extend_and_shorten_need_a_step_with_focus(command: core.Command) -> None:
    with pytest.raises(focus.NoFocus):
        apply(run((0, core.Start()), (1, core.Goto(2))), 2, command)
    with pytest.raises(focus.NoFocus):
        apply(run((0, core.Start()), plans=()), 2, command, ())
    with pytest.raises(core.NoActiveSession):
        apply(core.State(), 0, command)
    with pytest.raises(core.NoActiveSession):
        apply(run((0, core.Start()), (1, core.Finish())), 2, command)


@pytest.mark.parametrize("duration", [m(0), -m(5), timedelta(hours=24, seconds=1)])
def test_a_duration_out_of_range_is_refused(duration: timedelta) -> None:
    state = run((0, core.Start()))
    for command in (focus.Extend(duration), focus.Shorten(duration)):
        with pytest.raises(focus.DurationOutOfRange):
            apply(state, 1, command)


def test_each_refusal_has_words_for_the_catalogs() -> None:
    for refusal in (focus.NoFocus, focus.BreakIsOver, focus.DurationOutOfRange, focus.NoBoundaryDue):
        assert str(refusal()) != "refused" and refusal().name == refusal.__name__


# --- a cycle nobody stored -----------------------------------------------------------------------


def test_a_cycle_never_stored_is_derived_from_the_focus_time() -> None:
    assert focus.enter(PLAN, m(70)) == focus.Cycle(done=1, focus_from=m(50))
    assert focus.enter(PLAN, m(49)) == focus.Cycle()
    assert focus.enter(None, m(70)) == focus.Cycle()
    # A session saved before focus existed, or before `focus:` was added: 70 minutes in.
    old = core.State(session=core.Session(number=1, started_at=at(-70), step_times=(m(70), m(0), m(0)),
                                          running_since=at(0)))
    assert boundary(old) == 30
    assert where(old, 10) == ("focus", 2, 20)


def test_a_step_that_lost_its_focus_settings_ends_its_break() -> None:
    state = run((0, core.Start()), (50, focus.CatchUp()))
    state, _ = apply(state, 55, core.Fail("x"), ())  # restarted with focus: removed
    assert (step_minutes(state, 60), break_minutes(state, 60)) == (55, 5)


# --- the snapshot ----------------------------------------------------------------------------

FOCUSED = """
focus: {work: 50m}
steps:
  - {id: review, title: Review}
  - {id: lecture, title: Lecture, focus: {work: 25m, break: 5m, auto: false}}
  - {id: project, title: Project, focus: false}
"""


def snap(state: core.State, minute: float) -> dict[str, Any]:
    config = parse_config(FOCUSED, base_dir=Path("."))
    return views.snapshot(state, config, at(minute), rev=1)


def test_the_snapshot_says_where_the_cycle_stands_and_how_to_tick_it() -> None:
    state = run((0, core.Start()))
    assert snap(state, 20)["focus"] == {
        "phase": "focus", "cycle": 1, "long_every": 4, "auto": True, "running": True,
        "left_s": 1800.0, "length_s": 3000.0, "ends_at": "2026-11-24T18:50:00.000Z", "break_s": 0.0,
    }
    # Past the boundary the service is about to commit, the snapshot already shows the break.
    shown = snap(state, 55)
    assert shown["focus"] == {
        "phase": "break", "cycle": 1, "long_every": 4, "auto": True, "running": True,
        "left_s": 300.0, "length_s": 600.0, "ends_at": "2026-11-24T19:00:00.000Z", "break_s": 300.0,
    }
    assert shown["clock"]["running"] is False  # the step's clock stands still in a break
    assert shown["step"]["elapsed_s"] == 3000.0 and shown["session"]["elapsed_s"] == 3000.0
    assert shown["phase"] == "running"


def test_a_paused_cycle_does_not_count_down() -> None:
    shown = snap(run((0, core.Start()), (20, core.Pause())), 40)["focus"]
    assert (shown["running"], shown["left_s"], shown["ends_at"]) == (False, 1800.0, None)


def test_the_snapshot_of_a_break_over() -> None:
    plans = parse_config(FOCUSED, base_dir=Path(".")).focus_plans
    state = run((0, core.Start()), (1, core.Next()), (26, focus.CatchUp()), (31, focus.CatchUp()),
                plans=plans)
    shown = snap(state, 40)
    assert shown["focus"] == {
        "phase": "break_over", "cycle": 1, "long_every": 4, "auto": False, "running": False,
        "left_s": 0.0, "length_s": 300.0, "ends_at": None, "break_s": 300.0,
    }
    assert shown["phase"] == "paused" and "resume" not in shown["refused"]
    assert shown["refused"]["skip"] == focus.BreakIsOver.message


def test_no_focus_in_the_snapshot_without_a_cycle() -> None:
    assert snap(core.State(), 0)["focus"] is None
    assert snap(run((0, core.Start()), (1, core.Goto(2))), 5)["focus"] is None
    assert snap(run((0, core.Start()), (1, core.Finish())), 5)["focus"] is None
    refused = snap(run((0, core.Start()), (1, core.Goto(2))), 5)["refused"]
    assert refused["skip"] == refused["extend"] == refused["shorten"] == focus.NoFocus.message
    assert "skip" not in snap(run((0, core.Start())), 5)["refused"]


def test_settings_that_would_never_end_cannot_be_made() -> None:
    for bad in ({"work": m(0)}, {"break_": -m(1)}, {"long_break": m(0)}, {"long_every": 0}):
        with pytest.raises(ValueError):
            Focus(**bad)  # type: ignore[arg-type]
