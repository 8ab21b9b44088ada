"""A routine edited while the service runs: the state's steps follow their ids. Pure.

Steps are kept by index in the state. When the routine changes (the setup page), each session
is carried over step by step through the ids: a step that stays keeps its time, breaks and
failures wherever it moves; a removed step gives them to the step that takes its place (the
next one that stays, else the last). The current step stays current, so a running session
keeps its place; if it was removed, the step that takes its place becomes current.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from . import focus, undo
from .session import Session, State, fit_steps

ZERO = timedelta(0)


@dataclass(frozen=True)
class Moves:
    """For each old step: its index in the new routine, and whether it stayed (else it was removed
    and `to` is the step that takes its place)."""

    to: tuple[int, ...]
    kept: tuple[bool, ...]
    count: int  # steps in the new routine

    @property
    def identity(self) -> bool:
        return self.count == len(self.to) and all(self.kept) and self.to == tuple(range(self.count))


@dataclass(frozen=True)
class Reroute:
    """The service's own change when the routine is edited; no door can send it."""

    name = "routine"
    moves: Moves


def moves(old_ids: Sequence[str], new_ids: Sequence[str]) -> Moves:
    """Where each old step goes: its own place, or the place of the step that takes over."""
    where = {step_id: i for i, step_id in enumerate(new_ids)}
    to: list[int] = []
    for i, step_id in enumerate(old_ids):
        if step_id in where:
            to.append(where[step_id])
            continue
        after = next((where[s] for s in old_ids[i + 1:] if s in where), None)
        before = next((where[s] for s in reversed(old_ids[:i]) if s in where), None)
        to.append(after if after is not None else before if before is not None else 0)
    return Moves(tuple(to), tuple(s in where for s in old_ids), len(new_ids))


def reroute(state: State, m: Moves) -> State:
    """The state with every session's steps carried over to the new routine."""
    state = fit_steps(state, len(m.to))  # a session saved under another routine was fitted on load
    return replace(state, session=_move(state.session, m), discarded=_move(state.discarded, m),
                   previous=_move(state.previous, m))


def reroute_history(history: undo.History, m: Moves) -> undo.History:
    """Undo and redo keep working across the edit: their states follow the same moves."""
    def entry(e: undo.Entry) -> undo.Entry:
        return replace(e, before=reroute(e.before, m), after=reroute(e.after, m))

    return undo.History(tuple(map(entry, history.done)), tuple(map(entry, history.undone)))


def _move(s: Session | None, m: Moves) -> Session | None:
    if s is None:
        return None
    step = m.to[s.step]
    return replace(
        s, step_times=_carry(s.step_times, m), break_times=_carry(focus.breaks(s), m), step=step,
        failures=tuple(replace(f, step=m.to[f.step]) for f in s.failures),
        visited=frozenset(m.to[i] for i in s.visited) | {step},  # its time went there
        cycle=s.cycle if m.kept[s.step] else focus.Cycle(),
    )


def _carry(times: tuple[timedelta, ...], m: Moves) -> tuple[timedelta, ...]:
    out = [ZERO] * m.count
    for i, t in enumerate(times):
        out[m.to[i]] += t
    return tuple(out)
