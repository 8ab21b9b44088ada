"""Which scene each state wants, and which step a scene switched in OBS stands for (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from overlay.config import Config, parse_config
from overlay.core import session as core
from overlay.core.scenes import step_for_scene, summary, wanted_scene

T = datetime(2026, 11, 24, 18, tzinfo=UTC)
CONFIG = """
steps:
  - {id: review, title: Review, scene: Review}
  - {id: lecture, title: Lecture, scene: Lecture}
  - {id: again, title: Lecture again, scene: Lecture}
  - {id: project, title: Project}
obs:
  scenes: {idle: Starting soon, paused: Break, finished: Finished}
"""


def config() -> Config:
    return parse_config(CONFIG, base_dir=Path("."))


def run(*commands: core.Command) -> core.State:
    state = core.State()
    for i, c in enumerate(commands):
        state, _ = core.apply(state, c, T + timedelta(minutes=i), 4)
    return state


def test_each_phase_wants_its_scene() -> None:
    c = config()
    assert wanted_scene(run(), c) == "Starting soon"
    assert wanted_scene(run(core.Start()), c) == "Review"
    assert wanted_scene(run(core.Start(), core.Next()), c) == "Lecture"
    assert wanted_scene(run(core.Start(), core.Pause()), c) == "Break"
    assert wanted_scene(run(core.Start(), core.Finish()), c) == "Finished"
    assert wanted_scene(run(core.Start(), core.Goto(3)), c) is None  # a step without a scene


def test_without_a_break_scene_a_paused_step_keeps_its_scene() -> None:
    c = parse_config(CONFIG.replace("paused: Break, ", ""), base_dir=Path("."))
    assert wanted_scene(run(core.Start(), core.Pause()), c) == "Review"


def test_a_scene_follows_to_a_step_only_when_exactly_one_step_names_it() -> None:
    c = config()
    assert step_for_scene(c, "Review") == "review"
    assert step_for_scene(c, "Lecture") is None  # two steps share it
    assert step_for_scene(c, "Break") is None


def test_the_custom_event_summary() -> None:
    data = summary(run(core.Start(), core.Fail("x"), core.Next()), config(), 3)
    assert data == {
        "source": "study-overlay", "rev": 3, "phase": "running", "session": 1,
        "step": {"index": 1, "id": "lecture", "title": "Lecture"},
        "failures": {"session": 1, "total": 1}, "scene": "Lecture",
    }
