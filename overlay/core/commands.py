"""The command registry: every command's name, help and arguments, once.

Every door reads it: the HTTP/WebSocket parser, the CLI's subcommands, the hotkey bindings,
the dock, and the README's command table (a test holds them together). The service's own
command, focus.CatchUp, is not here: no door can send it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from . import focus, sound, undo
from . import session as core
from .durations import format_duration, parse_duration
from .routine import Reroute
from .settings import Step

DOORS = ("http", "ws", "dock", "cli", "hotkey", "obs")
NOTE_ARG = "note"
STEP_ARG = "step"
DURATION_ARG = "duration"
CUE_ARG = "cue"
REQUIRED = (STEP_ARG, CUE_ARG)


@dataclass(frozen=True)
class Spec:
    name: str
    help: str
    make: Callable[..., core.Command]
    arg: str | None = None  # "note" (optional text), "duration" (optional); "step", "cue" (required)
    confirm: bool = False  # a hotkey runs it only on a second press

    @property
    def bindable(self) -> bool:
        """A key can carry it: it needs no argument."""
        return self.arg not in REQUIRED


def _spec(cls: type[core.Command], help_text: str, **kw: Any) -> Spec:
    return Spec(cls.name, help_text, cls, **kw)


COMMANDS: Mapping[str, Spec] = {s.name: s for s in (
    _spec(core.Start, "start a session"),
    _spec(core.Next, "complete the current step"),
    _spec(core.Prev, "back one step"),
    _spec(core.Goto, "jump to a step", arg=STEP_ARG),
    _spec(core.Follow, "resume if paused and move to a step, in one change", arg=STEP_ARG),
    _spec(core.Pause, "pause both clocks"),
    _spec(core.Resume, "resume both clocks"),
    _spec(core.TogglePause, "pause or resume"),
    _spec(core.Fail, "log a failure", arg=NOTE_ARG),
    _spec(core.UndoFail, "remove the last failure of this session"),
    _spec(core.Finish, "finish the session", confirm=True),
    _spec(core.Reset, "put the session aside (restore brings it back)", confirm=True),
    _spec(core.Restore, "bring back the session the last reset put aside"),
    _spec(core.CompleteUnit, "mark one unit of the goal done"),
    _spec(core.UndoUnit, "take back the last unit-done"),
    _spec(focus.Skip, "end this focus or break now"),
    _spec(focus.Extend, "make this focus or break longer (default 5m)", arg=DURATION_ARG),
    _spec(focus.Shorten, "make this focus or break shorter (default 5m)", arg=DURATION_ARG),
    _spec(undo.Undo, "take back the last command, whatever it was"),
    _spec(undo.Redo, "put back the command the last undo took back"),
    _spec(sound.Mute, "silence every sound page"),
    _spec(sound.Unmute, "let the sound pages play again"),
    _spec(sound.ToggleMute, "mute or unmute"),
    _spec(sound.TestSound, "play a cue on the sound pages now: " + ", ".join(sound.CUES), arg=CUE_ARG),
)}
NAMES = tuple(COMMANDS)
BINDABLE = tuple(s.name for s in COMMANDS.values() if s.bindable)
CONFIRM = frozenset(s.name for s in COMMANDS.values() if s.confirm)


class BadCommand(Exception):
    """Malformed input: answered with 400 and changes nothing."""


def find_step(steps: Sequence[Step], ref: str | int) -> int | None:
    """A step by id, or by 1-based number (a JSON number is only ever a number)."""
    if isinstance(ref, str):
        for i, step in enumerate(steps):
            if step.id == ref:
                return i
        if not re.fullmatch(r"[0-9]{1,3}", ref):
            return None
        ref = int(ref)
    return ref - 1 if 1 <= ref <= len(steps) else None


def simple(name: str) -> core.Command:
    """The command a name stands for, when it takes no step (a key binding, a dock button)."""
    spec = COMMANDS.get(name)
    if spec is None or not spec.bindable:
        raise BadCommand(f"unknown command {name!r}; expected one of: {', '.join(BINDABLE)}")
    return spec.make()


def parse(data: Any, steps: Sequence[Step]) -> core.Command:
    """{"command": "fail", "note": "..."} from JSON or argv into a typed command; BadCommand if not."""
    if not isinstance(data, dict):
        raise BadCommand('expected a JSON object like {"command": "next"}')
    name = data.get("command")
    if not isinstance(name, str):
        raise BadCommand('missing "command" (text), e.g. {"command": "next"}')
    spec = COMMANDS.get(name)
    if spec is None:
        raise BadCommand(f"unknown command {name[:40]!r}; expected one of: {', '.join(NAMES)}")
    extra = sorted(str(k)[:40] for k in set(data) - {"command", spec.arg})
    if extra:
        raise BadCommand(f"unexpected field(s) for {name!r}: {', '.join(extra)}")
    if spec.arg == NOTE_ARG:
        return spec.make(note=_note(data.get(NOTE_ARG)))
    if spec.arg == STEP_ARG:
        return spec.make(step=_step(data.get(STEP_ARG), steps))
    if spec.arg == CUE_ARG:
        return spec.make(cue=_cue(data.get(CUE_ARG)))
    if spec.arg == DURATION_ARG and data.get(DURATION_ARG) is not None:
        return spec.make(duration=_duration(data[DURATION_ARG]))
    return spec.make()


def _note(note: Any) -> str:
    if note is None:
        return ""
    if not isinstance(note, str):
        raise BadCommand('"note" must be text')
    text: str = note.strip()
    if not text.isascii():  # the HTTP door refuses such bodies first; this holds for any door
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise BadCommand('"note" is not Unicode text (it holds a lone surrogate)') from None
    if len(text) > core.NOTE_MAX:
        raise BadCommand(f'"note" is {len(text)} characters; at most {core.NOTE_MAX}')
    return text


def _duration(value: Any) -> timedelta:
    """"10m", "90s", "1h30m", or a number of seconds."""
    if isinstance(value, str):
        parsed = parse_duration(value[:40])
    elif isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 10**9:
        parsed = timedelta(milliseconds=round(value * 1000))  # what the command log keeps
    else:
        raise BadCommand('"duration" must be text like "10m" or a number of seconds')
    if parsed is None:
        raise BadCommand(f'"duration" {value[:40]!r} is not a duration such as 10m, 90s or 1h30m')
    if not timedelta(0) < parsed <= focus.ADJUST_MAX:
        raise BadCommand('"duration" must be more than 0 and at most 24h')
    return parsed


def _cue(name: Any) -> str:
    if name not in sound.CUES:  # also what is not text
        shown = name[:40] if isinstance(name, str) else name
        raise BadCommand(f'"cue" {shown!r} is not a sound cue; expected one of: {", ".join(sound.CUES)}')
    return str(name)


def _step(ref: Any, steps: Sequence[Step]) -> int:
    if isinstance(ref, bool) or not isinstance(ref, str | int):
        raise BadCommand('"step" must be a step id or its 1-based number')
    index = find_step(steps, ref)
    if index is None:
        ids = ", ".join(s.id for s in steps)
        shown = ref[:40] if isinstance(ref, str) else ref
        raise BadCommand(f"no step {shown!r}; steps are 1-{len(steps)} or: {ids}")
    return index


def to_dict(command: core.Command | Reroute, steps: Sequence[Step]) -> dict[str, Any]:
    """The JSON form of a command, as the command log keeps it (steps by 1-based number)."""
    out: dict[str, Any] = {"command": command.name}
    if isinstance(command, Reroute):  # the routine it moved to
        return {**out, "steps": [st.id for st in steps]}
    spec = COMMANDS.get(command.name)  # None: the service's own (catch-up), with no argument
    arg = spec.arg if spec else None
    if arg == NOTE_ARG:
        out[NOTE_ARG] = getattr(command, NOTE_ARG)
    elif arg == STEP_ARG:
        out[STEP_ARG] = getattr(command, STEP_ARG) + 1
    elif arg == DURATION_ARG:
        out[DURATION_ARG] = format_duration(getattr(command, DURATION_ARG))
    elif arg == CUE_ARG:
        out[CUE_ARG] = getattr(command, CUE_ARG)
    return out
