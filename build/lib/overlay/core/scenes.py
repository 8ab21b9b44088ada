"""Which OBS scene a state wants, and which step a scene switched in OBS stands for. Pure."""

from __future__ import annotations

from typing import Any

from . import session as core
from .settings import Config


def wanted_scene(state: core.State, config: Config) -> str | None:
    """The scene OBS should show; None leaves OBS alone."""
    phase = core.phase(state)
    named = config.obs.scenes
    s = state.session
    if phase == "idle" or s is None:
        return named.idle
    if phase == "finished":
        return named.finished
    if s.cycle.on_break or s.cycle.over:  # a break, and its end waiting for the streamer
        return named.break_ or named.paused or config.steps[s.step].scene
    if phase == "paused" and named.paused:
        return named.paused
    return config.steps[s.step].scene


def step_for_scene(config: Config, scene: str) -> str | None:
    """The step id a scene belongs to, when exactly one step names it."""
    ids = [st.id for st in config.steps if st.scene == scene]
    return ids[0] if len(ids) == 1 else None


def summary(state: core.State, config: Config, rev: int) -> dict[str, Any]:
    """What other OBS tools get in our CustomEvent after every change."""
    s = state.session
    step = config.steps[s.step] if s else config.steps[0]
    return {
        "source": "study-overlay",
        "rev": rev,
        "phase": core.phase(state),
        "session": s.number if s else None,
        "step": {"index": s.step if s else 0, "id": step.id, "title": step.title},
        "failures": {"session": len(s.failures) if s else 0, "total": core.total_failures(state)},
        "scene": wanted_scene(state, config),
    }
