"""Sound cues: the moments a sound plays on the pages that opt in, each once. Pure, like the core.

An occurrence of a cue is a moment with a name that stays the same however often it is worked
out: the state fixes both (a break that began at 10:50 began then; the target of step 2 in
session 4 is reached once). Pages play an occurrence once, remember its name, and skip one that
is over a minute old (it was due while they were closed). Mute is part of the state, so the
dock or a hotkey silences every sound page at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .durations import format_duration
from .refusal import N_, Refused

if TYPE_CHECKING:
    from .session import State

# target: a step's target reached; break: a focus ends and its break starts; focus: a break ends;
# fail: a failure logged (off unless asked); deadline: a reminder at deadline.remind before it.
CUES = ("target", "break", "focus", "fail", "deadline")
FRESH = timedelta(minutes=1)  # older than this, an occurrence is not played any more
AHEAD = timedelta(hours=1)  # occurrences this near are listed for pages to time themselves


@dataclass(frozen=True)
class Cue:
    enabled: bool = True
    file: str | None = None  # a file of the streamer's; None: the one the package ships
    volume: float = 0.8  # 0 to 1


def _default_cues() -> Mapping[str, Cue]:
    return {name: Cue(enabled=name != "fail") for name in CUES}


@dataclass(frozen=True)
class Sounds:
    cues: Mapping[str, Cue] = field(default_factory=_default_cues)  # every name in CUES


# --- commands, events, refusals ----------------------------------------------------------


@dataclass(frozen=True)
class Mute:
    name = "mute"


@dataclass(frozen=True)
class Unmute:
    name = "unmute"


@dataclass(frozen=True)
class ToggleMute:
    name = "toggle-mute"


@dataclass(frozen=True)
class TestSound:
    cue: str
    name = "test-sound"


SoundCommand = Mute | Unmute | ToggleMute | TestSound


@dataclass(frozen=True)
class MuteChanged:
    muted: bool


@dataclass(frozen=True)
class SoundTested:
    cue: str
    at: datetime


SoundEvent = MuteChanged | SoundTested


class AlreadyMuted(Refused):
    message = N_("sounds are already muted")


class NotMuted(Refused):
    message = N_("sounds are not muted")


class MutedNow(Refused):
    message = N_("sounds are muted; unmute them to hear a test")


class UnknownCue(Refused):
    message = N_("no such sound cue")


def apply(state: State, command: SoundCommand, now: datetime) -> tuple[State, tuple[SoundEvent]]:
    """mute, unmute, toggle-mute and test-sound: they need no session."""
    match command:
        case ToggleMute():
            return apply(state, Unmute() if state.muted else Mute(), now)
        case Mute():
            if state.muted:
                raise AlreadyMuted()
            return replace(state, muted=True), (MuteChanged(True),)
        case Unmute():
            if not state.muted:
                raise NotMuted()
            return replace(state, muted=False), (MuteChanged(False),)
        case TestSound(cue=cue):
            if cue not in CUES:
                raise UnknownCue()
            if state.muted:
                raise MutedNow()
            return replace(state, tested=(cue, now)), (SoundTested(cue, now),)


# --- occurrences -------------------------------------------------------------------------


@dataclass(frozen=True)
class Occurrence:
    id: str  # the same every time it is worked out: pages remember it once played
    cue: str
    at: datetime
    test: bool = False  # a test-sound: it plays even when its cue is off


def _t(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds")


def occurrences(
    state: State, now: datetime, targets: Sequence[timedelta | None], deadline: datetime | None,
    remind: Sequence[timedelta],
) -> tuple[Occurrence, ...]:
    """Every occurrence from a minute ago to an hour ahead, in time order. `state` is caught up
    (views.snapshot): a boundary due now has been crossed."""
    found: list[Occurrence] = []
    s = state.session
    if s is not None and s.active:
        n, c = s.number, s.cycle
        if c.since is not None:  # the last boundary crossed in this step
            cue = "break" if c.on_break and not c.over else "focus"
            found.append(Occurrence(f"{cue}:{n}:{s.step}:{c.done}", cue, c.since))
        target = targets[s.step] if s.step < len(targets) else None
        banked = s.step_times[s.step]
        if target is not None and s.running_since is not None and not c.on_break and banked < target:
            found.append(Occurrence(f"target:{n}:{s.step}", "target", s.running_since + target - banked))
        if s.failures:
            last = s.failures[-1]
            found.append(Occurrence(f"fail:{n}:{len(s.failures)}:{_t(last.at)}", "fail", last.at))
    if deadline is not None:
        for before in remind:
            found.append(Occurrence(f"deadline:{_t(deadline)}:{format_duration(before)}", "deadline",
                                    deadline - before))
    if state.tested is not None:
        cue, at = state.tested
        found.append(Occurrence(f"test:{cue}:{_t(at)}", cue, at, test=True))
    return tuple(sorted((o for o in found if now - FRESH <= o.at <= now + AHEAD), key=lambda o: o.at))
