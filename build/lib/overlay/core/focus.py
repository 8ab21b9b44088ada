"""Focus and break cycles inside a step. Pure, like the rest of the core: every function takes `now`.

Where a cycle stands is derived from the step's focus time and its settings. `Cycle` keeps only
what cannot be: how many focus periods ended, where the current one began, whether a break runs
(then the running interval is break time, not step time) and the extend/shorten of the current
one. A boundary (a focus or a break ending) is a moment fixed by the state alone, so a restart
computes the same one; crossing it changes the state, so it cannot be crossed twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .refusal import N_, Refused

if TYPE_CHECKING:
    from .session import Session, State

ZERO = timedelta(0)
ADJUST = timedelta(minutes=5)  # extend/shorten without a duration
ADJUST_MAX = timedelta(hours=24)

# --- settings ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Focus:
    """One step's cycle: `focus:` in config.yaml with the step's own overrides applied."""

    work: timedelta = timedelta(minutes=50)
    break_: timedelta = timedelta(minutes=10)  # `break` in config.yaml
    long_break: timedelta = timedelta(minutes=30)
    long_every: int = 4  # every 4th break is a long one
    auto: bool = True  # the next focus starts when a break ends; else it waits for resume/next

    def __post_init__(self) -> None:
        if min(self.work, self.break_, self.long_break) <= ZERO or self.long_every < 1:
            raise ValueError(f"a cycle of nothing never ends: {self!r}")  # config.yaml checks first


Plans = Sequence[Focus | None]  # by step index; a step past the end has none


def plan_for(plans: Plans, step: int) -> Focus | None:
    return plans[step] if 0 <= step < len(plans) else None


# --- state -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cycle:
    """The current step's cycle, beyond what its focus time says."""

    done: int = 0  # focus periods of this step that have ended
    focus_from: timedelta = ZERO  # the step's focus time when the current focus began
    on_break: bool = False  # a break runs (or is over): the running interval is break time
    break_from: timedelta = ZERO  # the step's break time when the current break began
    over: bool = False  # the break ended with auto off: the session waits, paused, for resume/next
    extra: timedelta = ZERO  # extend (+) and shorten (-) of the current focus or break
    since: datetime | None = None  # when the last boundary of this step was crossed (its sound)


def enter(plan: Focus | None, focus_time: timedelta) -> Cycle:
    """A step's cycle as it becomes current: from its focus time alone (work 50m, 70m: cycle 2)."""
    if plan is None:
        return Cycle()
    done = focus_time // plan.work
    return Cycle(done=done, focus_from=plan.work * done)


# --- commands, events, refusals ----------------------------------------------------------


@dataclass(frozen=True)
class Skip:
    name = "skip"


@dataclass(frozen=True)
class Extend:
    duration: timedelta = ADJUST
    name = "extend"


@dataclass(frozen=True)
class Shorten:
    duration: timedelta = ADJUST
    name = "shorten"


@dataclass(frozen=True)
class CatchUp:
    """What the service dispatches at `next_boundary`: crosses every boundary due by now, once."""

    name = "catch-up"


Adjustment = Skip | Extend | Shorten


@dataclass(frozen=True)
class BreakStarted:
    step: int
    cycle: int  # the focus that ended
    long: bool
    at: datetime


@dataclass(frozen=True)
class BreakEnded:
    step: int
    cycle: int
    at: datetime
    waiting: bool  # auto off: the next focus waits for resume/next


@dataclass(frozen=True)
class CycleAdjusted:
    step: int
    phase: str
    by: timedelta


FocusEvent = BreakStarted | BreakEnded | CycleAdjusted
Crossed = tuple[FocusEvent, ...]


class NoFocus(Refused):
    message = N_("this step has no focus and break cycle (focus: in config.yaml)")


class BreakIsOver(Refused):
    message = N_("the break is over; resume or go to the next step")


class DurationOutOfRange(Refused):
    message = N_("a duration is more than 0 and at most 24h")


class NoBoundaryDue(Refused):
    message = N_("no focus or break ends now")


# --- the two clocks of a step ------------------------------------------------------------


def breaks(s: Session) -> tuple[timedelta, ...]:
    """Break time banked per step (sessions saved before breaks existed have none)."""
    n = len(s.step_times)
    return (s.break_times + (ZERO,) * n)[:n]


def _running(s: Session, now: datetime) -> timedelta:
    return ZERO if s.running_since is None else max(ZERO, now - s.running_since)


def focus_time(s: Session, now: datetime, step: int | None = None) -> timedelta:
    """A step's own time: focus only, a break in progress excluded."""
    i = s.step if step is None else step
    running = _running(s, now) if i == s.step and not s.cycle.on_break else ZERO
    return s.step_times[i] + running


def break_time(s: Session, now: datetime, step: int | None = None) -> timedelta:
    i = s.step if step is None else step
    running = _running(s, now) if i == s.step and s.cycle.on_break else ZERO
    return breaks(s)[i] + running


def bank(s: Session, now: datetime) -> Session:
    """Moves the running interval up to `now` into the clock it feeds: the step's, or its breaks'."""
    if s.running_since is None:
        return s
    if s.cycle.on_break:
        times = list(breaks(s))
        times[s.step] += _running(s, now)
        return replace(s, break_times=tuple(times), running_since=now)
    times = list(s.step_times)
    times[s.step] += _running(s, now)
    return replace(s, step_times=tuple(times), running_since=now)


# --- where the cycle stands --------------------------------------------------------------


def _long(c: Cycle, plan: Focus) -> bool:
    return c.done % plan.long_every == 0


def phase(c: Cycle, plan: Focus) -> str:
    if not c.on_break:
        return "focus"
    if c.over:
        return "break_over"
    return "long_break" if _long(c, plan) else "break"


def length(c: Cycle, plan: Focus) -> timedelta:
    """The current focus or break, with its extend/shorten."""
    if not c.on_break:
        base = plan.work
    else:
        base = plan.long_break if _long(c, plan) else plan.break_
    return base + c.extra


def elapsed(s: Session, now: datetime) -> timedelta:
    c = s.cycle
    return break_time(s, now) - c.break_from if c.on_break else focus_time(s, now) - c.focus_from


def boundary(s: Session, plan: Focus | None) -> datetime | None:
    """When the current focus or break ends; None while nothing runs (paused, over, no focus)."""
    if plan is None or s.running_since is None or s.finished_at is not None or s.cycle.over:
        return None
    left = length(s.cycle, plan) - elapsed(s, s.running_since)
    return s.running_since + max(ZERO, left)  # never before the interval: what it banked stays


def next_boundary(state: State, plans: Plans) -> datetime | None:
    """The moment the service wakes to dispatch CatchUp; at or before now means due already.

    It needs no `now`: the state alone fixes it, so after a restart it is the same moment."""
    s = state.session
    if s is None:
        return None
    plan = plan_for(plans, s.step)
    return boundary(_settle(s, plan), plan)


@dataclass(frozen=True)
class Position:
    phase: str  # focus, break, long_break or break_over
    cycle: int  # 1-based: the focus under way, or the one the break follows
    length: timedelta
    left: timedelta
    ends_at: datetime | None  # None while it does not count down (paused, break over)


def position(s: Session, plan: Focus, now: datetime) -> Position:
    c = s.cycle
    size = length(c, plan)
    left = ZERO if c.over else max(ZERO, size - elapsed(s, now))
    return Position(
        phase=phase(c, plan), cycle=c.done if c.on_break else c.done + 1, length=size, left=left,
        ends_at=boundary(s, plan),
    )


# --- crossing a boundary -----------------------------------------------------------------


def start_focus(s: Session, at: datetime | None = None) -> Session:
    """The next focus begins where the step's focus time stands (banked by the caller). `at`: the
    break ended then; without it (resume after a break over) it ended when it was over."""
    return replace(s, cycle=Cycle(done=s.cycle.done, focus_from=s.step_times[s.step],
                                  since=at or s.cycle.since))


def cross(s: Session, plan: Focus, at: datetime, by_user: bool) -> tuple[Session, Crossed]:
    """The current focus or break ends at `at`, the session banked up to it. A break the clock
    ends obeys `auto`; one the streamer ends (skip, shorten) is followed by focus at once."""
    c = s.cycle
    if not c.on_break:
        after = Cycle(done=c.done + 1, focus_from=c.focus_from, on_break=True,
                      break_from=breaks(s)[s.step], since=at)
        return replace(s, cycle=after), (BreakStarted(s.step, after.done, _long(after, plan), at),)
    if by_user or plan.auto:
        return start_focus(s, at), (BreakEnded(s.step, c.done, at, waiting=False),)
    waiting = replace(c, over=True, extra=ZERO, since=at)
    return replace(s, cycle=waiting, running_since=None, paused_at=at), (
        BreakEnded(s.step, c.done, at, waiting=True),
    )


def _settle(s: Session, plan: Focus | None) -> Session:
    """A cycle never set for these settings (a file from before focus, `focus:` added since a
    restart) is what the step's banked focus time says."""
    if plan is None or s.cycle != Cycle():
        return s
    return replace(s, cycle=enter(plan, s.step_times[s.step]))


def catch_up(s: Session, plan: Focus | None, now: datetime) -> tuple[Session, Crossed]:
    """Crosses every boundary due by `now`, each at its own moment (the service may wake late,
    or have been down): a break that began at 10:50 began then, whenever this runs."""
    if plan is None:
        if s.cycle.on_break:  # the step lost its focus settings since; a break over stays a pause
            s = replace(bank(s, now), cycle=Cycle())
        return s, ()
    s = _settle(s, plan)
    events: Crossed = ()
    while (at := boundary(s, plan)) is not None and at <= now:
        s, crossed = cross(bank(s, at), plan, at, by_user=False)
        events += crossed
    return s, events


def adjust(
    s: Session, plan: Focus | None, command: Adjustment, now: datetime
) -> tuple[Session, Crossed]:
    """skip, extend or shorten the current focus or break; shortened to nothing, it ends now."""
    if isinstance(command, Extend | Shorten) and not ZERO < command.duration <= ADJUST_MAX:
        raise DurationOutOfRange()
    if plan is None:
        raise NoFocus()
    if s.cycle.over:
        raise BreakIsOver()
    s = bank(s, now)
    if isinstance(command, Skip):
        return cross(s, plan, now, by_user=True)
    by = command.duration if isinstance(command, Extend) else -command.duration
    s = replace(s, cycle=replace(s.cycle, extra=s.cycle.extra + by))
    adjusted = (CycleAdjusted(s.step, phase(s.cycle, plan), by),)
    if elapsed(s, now) < length(s.cycle, plan):
        return s, adjusted
    s, crossed = cross(s, plan, now, by_user=True)
    return s, adjusted + crossed
