"""Pure views: (state, config, now) -> the JSON snapshot every page and client reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import islice
from typing import Any

from . import commands, focus, sound, undo
from . import session as core
from .pacing import pacing
from .settings import Config

LOG_LIMIT = 20  # the session's newest failures carried in a snapshot (the dock's list); /history has all
REVIEW_LIMIT = 100  # the previous session's notes a reviews_previous step shows


def iso(at: datetime | None) -> str | None:
    if at is None:
        return None
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def seconds(d: timedelta | None) -> float | None:
    return None if d is None else round(d.total_seconds(), 3)


def snapshot(
    state: core.State, config: Config, now: datetime, rev: int, history: undo.History | None = None
) -> dict[str, Any]:
    """The full state a client needs, with elapsed figures as of `now` (server_time)."""
    plans = config.focus_plans
    state = core.caught_up(state, now, plans)  # a boundary the service is about to commit shows
    s = state.session
    phase = core.phase(state)
    current = s.step if s else 0
    step_cfg = config.steps[current]
    step_elapsed = core.step_elapsed(s, now) if s else timedelta(0)
    steps = []
    passed_over = core.skipped(s) if s else frozenset()
    for i, st in enumerate(config.steps):
        if s is None:
            where = "todo"
        elif i == current and phase != "finished":
            where = "current"
        elif i in passed_over:
            where = "skipped"
        else:
            where = "done" if (i < current or phase == "finished") else "todo"
        steps.append({
            "index": i, "id": st.id, "title": st.title, "target_s": seconds(st.target),
            "elapsed_s": seconds(core.step_elapsed(s, now, i)) if s else 0.0, "state": where,
        })
    failures = s.failures if s else ()
    log = [_log_entry(f, config.steps[f.step].id) for f in failures[-LOG_LIMIT:]]
    return {
        "type": "snapshot",
        "rev": rev,
        "server_time": iso(now),
        "phase": phase,
        "session": None if s is None else {
            "number": s.number,
            "started_at": iso(s.started_at),
            "finished_at": iso(s.finished_at),
            "paused_at": iso(s.paused_at),
            "elapsed_s": seconds(core.session_elapsed(s, now)),
            "pauses": s.pauses,
        },
        "step": {
            "index": current,
            "number": current + 1,
            "count": len(config.steps),
            "id": step_cfg.id,
            "title": step_cfg.title,
            "scene": step_cfg.scene,
            "target_s": seconds(step_cfg.target),
            "elapsed_s": seconds(step_elapsed),
            "delta_s": seconds(step_elapsed - step_cfg.target) if step_cfg.target else None,
        },
        "steps": steps,
        "clock": {  # the step's and the session's clocks: a break stops them
            "running": phase == "running" and s is not None and not s.cycle.on_break,
            "since": iso(s.running_since) if s else None,
        },
        "focus": _focus(s, config, now),
        "failures": {
            "session": len(failures),
            "step": sum(1 for f in failures if f.step == current),
            "total": core.total_failures(state),
            "last_note": next((f.note for f in reversed(failures) if f.note), None),
            "log": log,
        },
        "deadline": _deadline(config, now),
        "goal": pacing(config.goal, config.deadline, len(state.units), state.first_started, now),
        "review": _review(state, config) if step_cfg.reviews_previous else None,
        "can_restore": state.discarded is not None and s is None,
        "refused": refused(state, now, len(config.steps), plans, history or undo.History()),
        "sound": _sound(state, config, now),
        "undo": _step_of(history.done) if history else None,
        "redo": _step_of(history.undone) if history else None,
    }


def _step_of(entries: tuple[undo.Entry, ...]) -> dict[str, Any] | None:
    """What undo (or redo) would act on: "Undo: next (2 min ago)"."""
    if not entries:
        return None
    return {"command": entries[-1].command, "at": iso(entries[-1].at)}


def _sound(state: core.State, config: Config, now: datetime) -> dict[str, Any]:
    """Mute, and the cue occurrences pages with sound play: each once, at `in_s` from now."""
    deadline = config.deadline
    found = sound.occurrences(state, now, [st.target for st in config.steps],
                              deadline.at if deadline else None, deadline.remind if deadline else ())
    cues = config.sounds.cues
    return {"muted": state.muted, "cues": [
        {"id": o.id, "cue": o.cue, "in_s": seconds(o.at - now), "url": f"/sounds/{o.cue}",
         "volume": cues[o.cue].volume}
        for o in found if cues[o.cue].enabled or o.test
    ]}


def refused(
    state: core.State, now: datetime, step_count: int, plans: focus.Plans = (),
    history: undo.History | None = None,
) -> dict[str, str]:
    """Each command with no argument the core would refuse now, with its reason: the dock
    disables those buttons and says why, with the same words the refusal would use."""
    out = {}
    history = history or undo.History()
    tries = [(name, commands.simple(name)) for name in commands.BINDABLE]
    tries.append((sound.TestSound.name, sound.TestSound(sound.CUES[0])))  # any cue: refused alike
    for name, command in tries:
        try:
            if isinstance(command, undo.Undo):
                history.undo()
            elif isinstance(command, undo.Redo):
                history.redo()
            else:
                core.apply(state, command, now, step_count, plans)
        except core.Refused as refusal:
            out[name] = str(refusal)
    return out


def _focus(s: core.Session | None, config: Config, now: datetime) -> dict[str, Any] | None:
    """Where the current step's cycle stands; a page counts `left_s` down from server_time
    while `running` (ends_at is the same moment, or null while it does not count down)."""
    plan = config.steps[s.step].focus if s is not None and s.active else None
    if s is None or plan is None:
        return None
    p = focus.position(s, plan, now)
    return {
        "phase": p.phase, "cycle": p.cycle, "long_every": plan.long_every, "auto": plan.auto,
        "running": p.ends_at is not None, "left_s": seconds(p.left), "length_s": seconds(p.length),
        "ends_at": iso(p.ends_at), "break_s": seconds(core.break_elapsed(s, now)),
    }


@lru_cache(maxsize=2 * LOG_LIMIT)
def _log_entry(f: core.Failure, step_id: str) -> dict[str, Any]:
    """One failure as the log shows it, made once: every snapshot shares it, and nobody writes it."""
    return {"at": iso(f.at), "step": f.step, "step_id": step_id, "note": f.note}


def _review(state: core.State, config: Config) -> dict[str, Any] | None:
    """The previous session's failures: the weaknesses to look at again."""
    prev = state.previous
    if prev is None:
        return None
    titles = {i: st.title for i, st in enumerate(config.steps)}
    return {
        "session": prev.number,
        "count": len(prev.failures),
        "notes": [  # the last REVIEW_LIMIT with a note, found from the end: a long session costs no more
            {"at": iso(f.at), "step": titles.get(f.step, "?"), "note": f.note}
            for f in reversed(list(islice((f for f in reversed(prev.failures) if f.note), REVIEW_LIMIT)))
        ],
    }


def _deadline(config: Config, now: datetime) -> dict[str, Any] | None:
    d = config.deadline
    if d is None:
        return None
    left = d.at - now
    return {
        "at": iso(d.at),
        "label": d.label,
        "left_s": seconds(left),
        "passed": left <= timedelta(0),
    }
