"""The session core: a pure state machine. No I/O, no clock: every command takes `now`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from . import focus, sound, undo
from .refusal import N_
from .refusal import Refused as Refused

ZERO = timedelta(0)
NOTE_MAX = 280


# --- state -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    at: datetime
    step: int
    note: str


@dataclass(frozen=True)
class Session:
    number: int
    started_at: datetime
    step_times: tuple[timedelta, ...]  # focus time banked per step, the running interval excluded
    step: int = 0
    running_since: datetime | None = None  # start of the running interval; None if not running
    paused_at: datetime | None = None
    finished_at: datetime | None = None
    failures: tuple[Failure, ...] = ()
    pauses: int = 0
    visited: frozenset[int] = frozenset({0})  # steps that have been current at some point
    break_times: tuple[timedelta, ...] = ()  # break time banked per step (focus.breaks pads it)
    cycle: focus.Cycle = focus.Cycle()  # the current step's focus and break cycle

    @property
    def active(self) -> bool:
        return self.finished_at is None


@dataclass(frozen=True)
class State:
    session: Session | None = None
    last_number: int = 0
    failures_before: int = 0  # failures of every session but `session`
    discarded: Session | None = None  # what the last reset put aside, for `restore`
    discarded_at: datetime | None = None
    previous: Session | None = None  # the session before this one, for the review step
    first_started: datetime | None = None  # start of the very first session: pacing counts from it
    units: tuple[datetime, ...] = ()  # when each unit of the goal was done
    muted: bool = False  # every sound page is silent (core.sound)
    tested: tuple[str, datetime] | None = None  # the last test-sound: its cue and when


def phase(state: State) -> str:
    return "idle" if state.session is None else session_phase(state.session)


def session_phase(s: Session) -> str:
    """running, paused or finished: derived from the fields, never stored."""
    if s.finished_at is not None:
        return "finished"
    return "paused" if s.paused_at is not None else "running"


def step_elapsed(s: Session, now: datetime, step: int | None = None) -> timedelta:
    """A step's own time: while a break runs it stands still."""
    return focus.focus_time(s, now, step)


def break_elapsed(s: Session, now: datetime, step: int | None = None) -> timedelta:
    return focus.break_time(s, now, step)


def session_elapsed(s: Session, now: datetime) -> timedelta:
    """The steps' time together: breaks and pauses excluded."""
    return sum((focus.focus_time(s, now, i) for i in range(len(s.step_times))), ZERO)


def skipped(s: Session) -> frozenset[int]:
    """Steps passed over without ever being current: behind the current one, or any once finished."""
    behind = len(s.step_times) if s.finished_at is not None else s.step
    return frozenset(i for i in range(behind) if i not in s.visited)


def total_failures(state: State) -> int:
    return state.failures_before + (len(state.session.failures) if state.session else 0)


def fit_steps(state: State, count: int) -> State:
    """Adapt restored sessions to a routine that gained or lost steps since."""
    return replace(
        state,
        session=_fit(state.session, count),
        discarded=_fit(state.discarded, count),
        previous=_fit(state.previous, count),
    )


def _fit(s: Session | None, count: int) -> Session | None:
    if s is None or len(s.step_times) == count:
        return s
    times, breaks = _fit_times(s.step_times, count), _fit_times(focus.breaks(s), count)
    failures = tuple(replace(f, step=min(f.step, count - 1)) for f in s.failures)
    step = min(s.step, count - 1)
    visited = frozenset(i for i in s.visited if i < count) | {step}
    cycle = s.cycle if step == s.step else focus.Cycle()
    return replace(s, step_times=times, break_times=breaks, step=step, failures=failures,
                   visited=visited, cycle=cycle)


def _fit_times(times: tuple[timedelta, ...], count: int) -> tuple[timedelta, ...]:
    """The steps past the end give their time to the last one."""
    fitted = (times + (ZERO,) * count)[:count]
    return (*fitted[:-1], fitted[-1] + sum(times[count:], ZERO))


# --- commands ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    name = "start"


@dataclass(frozen=True)
class Next:
    name = "next"


@dataclass(frozen=True)
class Prev:
    name = "prev"


@dataclass(frozen=True)
class Goto:
    step: int
    name = "goto"


@dataclass(frozen=True)
class Follow:
    """A step's scene was chosen in OBS: resume if paused and move there, as one change."""

    step: int
    name = "follow"


@dataclass(frozen=True)
class Pause:
    name = "pause"


@dataclass(frozen=True)
class Resume:
    name = "resume"


@dataclass(frozen=True)
class TogglePause:
    name = "toggle-pause"


@dataclass(frozen=True)
class Fail:
    note: str = ""
    name = "fail"


@dataclass(frozen=True)
class UndoFail:
    name = "undo-fail"


@dataclass(frozen=True)
class Finish:
    name = "finish"


@dataclass(frozen=True)
class Reset:
    name = "reset"


@dataclass(frozen=True)
class Restore:
    name = "restore"


@dataclass(frozen=True)
class CompleteUnit:
    name = "unit-done"


@dataclass(frozen=True)
class UndoUnit:
    name = "unit-undo"


Command = (
    Start | Next | Prev | Goto | Follow | Pause | Resume | TogglePause | Fail | UndoFail | Finish
    | Reset | Restore | CompleteUnit | UndoUnit | focus.Skip | focus.Extend | focus.Shorten
    | focus.CatchUp | sound.SoundCommand | undo.Undo | undo.Redo
)


# --- events ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionStarted:
    session: int


@dataclass(frozen=True)
class StepCompleted:
    step: int
    elapsed: timedelta


@dataclass(frozen=True)
class StepChanged:
    from_step: int
    to_step: int


@dataclass(frozen=True)
class Paused:
    step: int


@dataclass(frozen=True)
class Resumed:
    paused_for: timedelta


@dataclass(frozen=True)
class FailureLogged:
    failure: Failure
    count: int


@dataclass(frozen=True)
class FailureRemoved:
    failure: Failure


@dataclass(frozen=True)
class SessionFinished:
    session: int
    elapsed: timedelta


@dataclass(frozen=True)
class SessionReset:
    session: int


@dataclass(frozen=True)
class SessionRestored:
    session: int


@dataclass(frozen=True)
class UnitCompleted:
    count: int


@dataclass(frozen=True)
class UnitRemoved:
    count: int


Event = (
    SessionStarted | StepCompleted | StepChanged | Paused | Resumed | FailureLogged
    | FailureRemoved | SessionFinished | SessionReset | SessionRestored | UnitCompleted
    | UnitRemoved | focus.FocusEvent | sound.SoundEvent | undo.UndoEvent
)


# --- refusals ----------------------------------------------------------------------------


# Refused, the base, is in refusal.py; focus.py has the refusals of skip, extend and shorten.


class NoActiveSession(Refused):
    message = N_("no session is running; start one first")


class SessionInProgress(Refused):
    message = N_("a session is already in progress; finish or reset it first")


class NoStepBefore(Refused):
    message = N_("already on the first step")


class UnknownStep(Refused):
    message = N_("no such step")


class AlreadyOnStep(Refused):
    message = N_("already on that step")


class AlreadyPaused(Refused):
    message = N_("the session is already paused")


class NotPaused(Refused):
    message = N_("the session is not paused")


class NoFailureToUndo(Refused):
    message = N_("no failure logged in this session")


class NothingToReset(Refused):
    message = N_("there is no session to reset")


class NothingToRestore(Refused):
    message = N_("nothing to restore: no session was reset since the last start")


class NoUnitToUndo(Refused):
    message = N_("no unit of the goal is marked done")


class NoteTooLong(Refused):
    message = N_("a failure note has at most 280 characters")  # NOTE_MAX


# --- transitions -------------------------------------------------------------------------


def apply(
    state: State, command: Command, now: datetime, step_count: int, plans: focus.Plans = ()
) -> tuple[State, tuple[Event, ...]]:
    """Run one command. Returns the new state and its events, or raises a Refused.

    `plans` are the steps' focus settings (Config.focus_plans); without them no step has one."""
    s = state.session
    match command:
        case Start():
            if s is not None and s.active:
                raise SessionInProgress()
            new = Session(
                number=state.last_number + 1, started_at=now,
                step_times=(ZERO,) * step_count, running_since=now, break_times=(ZERO,) * step_count,
            )
            return replace(
                state, session=new, last_number=new.number, failures_before=total_failures(state),
                discarded=None, discarded_at=None, previous=s or state.discarded or state.previous,
                first_started=state.first_started or now,
            ), (SessionStarted(new.number),)
        case CompleteUnit():
            return replace(state, units=(*state.units, now)), (UnitCompleted(len(state.units) + 1),)
        case UndoUnit():
            if not state.units:
                raise NoUnitToUndo()
            return replace(state, units=state.units[:-1]), (UnitRemoved(len(state.units) - 1),)
        case Restore():
            if s is not None or state.discarded is None:
                raise NothingToRestore()
            restored = state.discarded
            return replace(
                state, session=restored, discarded=None, discarded_at=None,
                failures_before=state.failures_before - len(restored.failures),
            ), (SessionRestored(restored.number),)
        case Reset():
            if s is None:
                raise NothingToReset()
            return replace(
                state, session=None, discarded=s, discarded_at=now,
                failures_before=total_failures(state),
            ), (SessionReset(s.number),)
        case sound.Mute() | sound.Unmute() | sound.ToggleMute() | sound.TestSound():
            return sound.apply(state, command, now)
        case UndoFail():
            if s is None or not s.failures:
                raise NoFailureToUndo()
            return _with(state, replace(s, failures=s.failures[:-1])), (
                FailureRemoved(s.failures[-1]),
            )
    if s is None or not s.active:
        raise NoActiveSession()
    # Every boundary due by now is crossed first, at its own moment: a command never acts on a
    # focus that has already ended.
    s, crossed = focus.catch_up(s, focus.plan_for(plans, s.step), now)
    if isinstance(command, focus.CatchUp):
        if not crossed:
            raise focus.NoBoundaryDue()
        return _with(state, s), crossed
    new_state, events = _on_active(state, s, command, now, plans)
    return new_state, (*crossed, *events)


def caught_up(state: State, now: datetime, plans: focus.Plans) -> State:
    """The state with every boundary due by now crossed: what a view shows between wake-ups."""
    s = state.session
    if s is None or not s.active:
        return state
    return _with(state, focus.catch_up(s, focus.plan_for(plans, s.step), now)[0])


def _on_active(
    state: State, s: Session, command: Command, now: datetime, plans: focus.Plans
) -> tuple[State, tuple[Event, ...]]:
    match command:
        case Next():
            s, ended = _end_break(s, now)
            done = StepCompleted(s.step, step_elapsed(s, now))
            if s.step + 1 == len(s.step_times):
                return _finish(state, s, now, (*ended, done))
            return _with(state, _move(s, s.step + 1, now, plans)), (
                *ended, done, StepChanged(s.step, s.step + 1),
            )
        case Prev():
            if s.step == 0:
                raise NoStepBefore()
            s, ended = _end_break(s, now)
            return _with(state, _move(s, s.step - 1, now, plans)), (
                *ended, StepChanged(s.step, s.step - 1),
            )
        case Goto(step=target):
            if not 0 <= target < len(s.step_times):
                raise UnknownStep()
            if target == s.step:
                raise AlreadyOnStep()
            s, ended = _end_break(s, now)
            return _with(state, _move(s, target, now, plans)), (*ended, StepChanged(s.step, target))
        case Follow(step=target):
            if not 0 <= target < len(s.step_times):
                raise UnknownStep()
            if target == s.step and s.paused_at is None and not s.cycle.on_break:
                raise AlreadyOnStep()
            # The step's scene chosen in OBS during a break: the streamer is back.
            s, events = _end_break(s, now)
            if s.paused_at is not None:
                events = (*events, Resumed(max(ZERO, now - s.paused_at)))
                s = replace(s, running_since=now, paused_at=None)
            if target == s.step:
                return _with(state, s), events
            return _with(state, _move(s, target, now, plans)), (*events, StepChanged(s.step, target))
        case TogglePause():
            return _on_active(state, s, Pause() if s.paused_at is None else Resume(), now, plans)
        case Pause():
            if s.paused_at is not None:
                raise AlreadyPaused()
            banked = _bank(s, now)
            return _with(state, replace(
                banked, running_since=None, paused_at=now, pauses=s.pauses + 1
            )), (Paused(s.step),)
        case Resume():
            if s.paused_at is None:
                raise NotPaused()
            resumed = replace(s, running_since=now, paused_at=None)
            if s.cycle.over:  # the break ended with auto off: this starts the next focus
                resumed = focus.start_focus(resumed)
            return _with(state, resumed), (Resumed(max(ZERO, now - s.paused_at)),)
        case Fail(note=note):
            note = note.strip()
            if len(note) > NOTE_MAX:
                raise NoteTooLong()
            failure = Failure(at=now, step=s.step, note=note)
            new = replace(s, failures=(*s.failures, failure))
            return _with(state, new), (FailureLogged(failure, len(new.failures)),)
        case Finish():
            return _finish(state, s, now, ())
        case focus.Skip() | focus.Extend() | focus.Shorten():
            new, adjusted = focus.adjust(s, focus.plan_for(plans, s.step), command, now)
            return _with(state, new), adjusted
    raise TypeError(f"not a command: {command!r}")  # pragma: no cover


def _with(state: State, session: Session) -> State:
    return replace(state, session=session)


_bank = focus.bank  # the running interval into the step's time, or its breaks' during a break


def _end_break(s: Session, now: datetime) -> tuple[Session, tuple[Event, ...]]:
    """A break ends by the streamer's doing (a step change, the step's scene in OBS). A break
    over (auto off) was a pause: it is lifted, as the streamer is back."""
    c = s.cycle
    if c.over and s.paused_at is not None:
        back = replace(s, running_since=now, paused_at=None)
        return focus.start_focus(back), (Resumed(max(ZERO, now - s.paused_at)),)
    if not c.on_break:
        return s, ()
    banked = _bank(s, now)
    return focus.start_focus(banked, now), (focus.BreakEnded(s.step, c.done, now, waiting=False),)


def _move(s: Session, target: int, now: datetime, plans: focus.Plans) -> Session:
    moved = replace(_bank(s, now), step=target, visited=s.visited | {target})
    return replace(moved, cycle=focus.enter(focus.plan_for(plans, target), moved.step_times[target]))


def _finish(
    state: State, s: Session, now: datetime, before: tuple[Event, ...]
) -> tuple[State, tuple[Event, ...]]:
    done = replace(_bank(s, now), running_since=None, paused_at=None, finished_at=now)
    return _with(state, done), (*before, SessionFinished(s.number, session_elapsed(done, now)))
