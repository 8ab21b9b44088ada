"""Turn a command as sent by any door ({"command": "fail", "note": "..."}) into a core command."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from . import core
from .config import Step

SIMPLE: dict[str, Callable[[], core.Command]] = {
    "start": core.Start,
    "next": core.Next,
    "prev": core.Prev,
    "pause": core.Pause,
    "resume": core.Resume,
    "toggle-pause": core.TogglePause,
    "undo-fail": core.UndoFail,
    "finish": core.Finish,
    "reset": core.Reset,
    "restore": core.Restore,
    "unit-done": core.CompleteUnit,
    "unit-undo": core.UndoUnit,
}
NAMES = (*SIMPLE, "fail", "goto")


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


def parse(data: Any, steps: Sequence[Step]) -> core.Command:
    if not isinstance(data, dict):
        raise BadCommand('expected a JSON object like {"command": "next"}')
    name = data.get("command")
    if not isinstance(name, str):
        raise BadCommand('missing "command" (text), e.g. {"command": "next"}')
    allowed = {"command"}
    if name == "fail":
        allowed.add("note")
    elif name == "goto":
        allowed.add("step")
    extra = sorted(set(data) - allowed)
    if extra:
        raise BadCommand(f"unexpected field(s) for {name!r}: {', '.join(extra)}")
    if name in SIMPLE:
        return SIMPLE[name]()
    if name == "fail":
        note = data.get("note", "")
        if note is None:
            note = ""
        if not isinstance(note, str):
            raise BadCommand('"note" must be text')
        note = note.strip()
        if len(note) > core.NOTE_MAX:
            raise BadCommand(f'"note" is {len(note)} characters; at most {core.NOTE_MAX}')
        return core.Fail(note=note)
    if name == "goto":
        ref = data.get("step")
        if isinstance(ref, bool) or not isinstance(ref, str | int):
            raise BadCommand('"step" must be a step id or its 1-based number')
        index = find_step(steps, ref)
        if index is None:
            ids = ", ".join(s.id for s in steps)
            raise BadCommand(f"no step {ref!r}; steps are 1-{len(steps)} or: {ids}")
        return core.Goto(step=index)
    raise BadCommand(f"unknown command {name!r}; expected one of: {', '.join(NAMES)}")
