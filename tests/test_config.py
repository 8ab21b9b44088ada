"""config.yaml validation: each bad file names its key (and line) and exits 2 without a traceback."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from overlay.config import ConfigError, load_config, parse_duration
from overlay.core import session as core
from overlay.core.focus import Focus

from .conftest import ROOT

GOOD = """\
steps:
  - id: review
    title: Review last notes
    target: 15m
  - id: lecture
    title: Lecture
deadline:
  at: 2027-03-01T18:00:00+01:00
  label: Final
"""

BAD = {
    "yaml syntax": (GOOD.replace("title: Lecture", "title: [Lecture"), "not valid YAML", "line 7"),
    "unknown top key": (GOOD + "serverr:\n  port: 1\n", "serverr (line 10): unknown key", None),
    "unknown step key": (
        GOOD.replace("    target: 15m", "    targte: 15m"), "steps[0].targte (line 4): unknown key", None
    ),
    "wrong type": (GOOD + "server:\n  port: eighty\n", "server.port (line 11)", "port number"),
    "bad duration": (GOOD.replace("15m", "quarter"), "steps[0].target (line 4)", "duration"),
    "empty steps": ("steps: []\n", "steps (line 1)", "empty"),
    "goal without deadline": (
        "steps:\n  - {id: a, title: A}\ngoal: {units: 3}\n", "goal (line 3)", "needs a deadline"
    ),
    "no steps": ("server:\n  port: 9000\n", "steps", "required"),
    "duplicate ids": (GOOD.replace("id: lecture", "id: review"), "steps[1].id (line 5)", "duplicate"),
    "deadline without zone": (
        GOOD.replace("18:00:00+01:00", "18:00:00"), "deadline.at (line 8)", "time zone"
    ),
    "obs bool as text": (GOOD + "obs:\n  enabled: yes please\n", "obs.enabled (line 11)", "true or false"),
    "impossible date": (GOOD.replace("2027-03-01", "2027-02-30"), "line 8", "day is out of range"),
    "unknown tag": (GOOD.replace("title: Lecture", "title: !tag Lecture"), "line 6", "!tag"),
    "duplicate key": (GOOD + "deadline:\n  label: x\n", "appears twice", "line 10"),
    "bad hotkey combo": (
        GOOD + "hotkeys:\n  bindings:\n    '<ctlr>+n': next\n",
        "hotkeys.bindings.<ctlr>+n (line 12)", "unknown key 'ctlr'",
    ),
    "unknown hotkey command": (
        GOOD + "hotkeys:\n  bindings:\n    '<ctrl>+<alt>+n': dance\n",
        "hotkeys.bindings.<ctrl>+<alt>+n (line 12)", "unknown command 'dance'",
    ),
    "focus as text": (GOOD + "focus: pomodoro\n", "focus (line 10)", "expected a mapping"),
    "focus unknown key": (GOOD + "focus:\n  wrok: 25m\n", "focus.wrok (line 11): unknown key", "work"),
    "focus work zero": (GOOD + "focus:\n  work: 0s\n", "focus.work (line 11)", "duration"),
    "focus work a number": (GOOD + "focus:\n  work: 25\n", "focus.work (line 11)", "duration"),
    "focus break": (GOOD + "focus:\n  break: ten\n", "focus.break (line 11)", "duration"),
    "focus long break": (GOOD + "focus:\n  long_break: -5m\n", "focus.long_break (line 11)", "duration"),
    "focus long_every zero": (GOOD + "focus:\n  long_every: 0\n", "focus.long_every (line 11)",
                              "whole number from 1 to 100"),
    "focus long_every text": (GOOD + "focus:\n  long_every: four\n", "focus.long_every (line 11)",
                              "whole number"),
    "focus long_every bool": (GOOD + "focus:\n  long_every: true\n", "focus.long_every (line 11)",
                              "whole number"),
    "focus auto": (GOOD + "focus:\n  auto: sometimes\n", "focus.auto (line 11)", "true or false"),
    "step focus as number": (
        GOOD.replace("    target: 15m", "    focus: 25"), "steps[0].focus (line 4)", "expected a mapping"
    ),
    "step focus key": (
        GOOD.replace("    target: 15m", "    focus: {work: 25m, brek: 5m}"),
        "steps[0].focus.brek (line 4): unknown key", None,
    ),
    "step focus work": (
        GOOD.replace("    target: 15m", "    focus:\n      work: soon"), "steps[0].focus.work (line 5)",
        "duration",
    ),
    "focus work past a day": (GOOD + "focus:\n  work: 25h\n", "focus.work (line 11)",
                              "'25h' is longer than 24h"),
    "focus break overflows": (GOOD + "focus:\n  break: 99999999999999h\n", "focus.break (line 11)",
                              "duration"),
    "target past 999h": (GOOD.replace("15m", "1000h"), "steps[0].target (line 4)", "longer than 999h"),
    "language a word": (GOOD + "language: english\n", "language (line 10)", "unknown language"),
    "language unshipped": (GOOD + "language: fr-IT\n", "language (line 10)", "unknown language"),
    "break scene empty": (GOOD + "obs:\n  scenes:\n    break: ''\n", "obs.scenes.break (line 12)",
                          "non-empty text"),
    "same hotkey twice": (
        GOOD + "hotkeys:\n  bindings:\n    '<ctrl>+<alt>+n': next\n    'ctrl+alt+N': prev\n",
        "hotkeys.bindings.ctrl+alt+N (line 13)", "same keys",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_config_names_the_key_and_line(case: str, tmp_path: Path) -> None:
    text, expected, also = BAD[case]
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert expected in message
    if also:
        assert also in message


@pytest.mark.parametrize(
    "case", ["yaml syntax", "unknown step key", "empty steps", "deadline without zone", "impossible date"]
)
def test_check_config_exits_2_with_one_clear_line(case: str, tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(BAD[case][0])
    done = subprocess.run(
        [sys.executable, "-m", "overlay", "check-config", str(path)],
        capture_output=True, text=True, cwd=ROOT, timeout=30,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("config error: ")
    assert BAD[case][1] in done.stderr


def test_shipped_config_is_valid_and_is_the_six_step_routine() -> None:
    config = load_config(ROOT / "config.yaml")
    assert [s.id for s in config.steps] == [
        "review", "lecture", "practice", "reading", "questionnaire", "project"
    ]
    assert config.server.host == "127.0.0.1"
    assert config.deadline is not None and config.deadline.at.tzinfo is not None
    done = subprocess.run(
        [sys.executable, "-m", "overlay", "check-config"], capture_output=True, text=True,
        cwd=ROOT, timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert "OK (6 steps)" in done.stdout


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yaml")


def test_values_are_read_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(GOOD + "server:\n  token: '  s3cret\n  '\nstorage:\n  path: data/x.db\n")
    config = load_config(path)
    assert config.steps[0].target == timedelta(minutes=15)
    assert config.steps[1].target is None
    assert config.server.port == 8754
    assert config.server.token == "s3cret"  # a pasted token's stray whitespace is dropped
    assert config.storage_path == tmp_path / "data" / "x.db"
    assert config.obs.enabled is False
    assert config.hotkeys.bindings["<ctrl>+<alt>+<shift>+n"] == core.Next()
    assert config.hotkeys.cooldown == timedelta(milliseconds=400)


def test_hotkey_bindings_replace_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(GOOD + "hotkeys:\n  cooldown: 1s\n  bindings:\n    'Ctrl+Alt+Space': toggle-pause\n")
    config = load_config(path)
    assert config.hotkeys.bindings == {"<ctrl>+<alt>+<space>": core.TogglePause()}
    assert config.hotkeys.cooldown == timedelta(seconds=1)


@pytest.mark.parametrize(("text", "minutes"), [
    ("25m", 25), ("1h30m", 90), ("90s", 1.5), ("1h", 60), ("400ms", 0.4 / 60), ("1d", 24 * 60),
    ("7d12h", 7.5 * 24 * 60),
])
def test_durations(text: str, minutes: float) -> None:
    parsed = parse_duration(text)
    assert parsed is not None
    assert parsed.total_seconds() == pytest.approx(minutes * 60)


@pytest.mark.parametrize("text", ["", "m", "25", "1w", "5 minutes", "1h1d", "9" * 5000 + "s",
                                  "99999999999999h"])
def test_bad_durations(text: str) -> None:
    assert parse_duration(text) is None


def test_goal_and_timezone(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(GOOD + "goal: {units: 8, unit: lesson, since: 2026-11-01}\ntimezone: Europe/Rome\n")
    config = load_config(path)
    assert config.goal is not None
    assert (config.goal.units, config.goal.unit, config.goal.unit_plural) == (8, "lesson", "lessons")
    assert config.goal.since is not None and config.goal.since.tzinfo is not None
    assert config.goal.since.date().isoformat() == "2026-11-01"
    assert str(config.timezone) == "Europe/Rome"
    for bad, where in (("goal: {units: 0}\n", "goal.units"), ("timezone: Mars/Olympus\n", "timezone"),
                       ("goal: {units: 2, since: someday}\n", "goal.since")):
        path.write_text(GOOD + bad)
        with pytest.raises(ConfigError, match=where.replace(".", r"\.")):
            load_config(path)


FOCUS = GOOD + "focus:\n  work: 25m\n  break: 20s\n"


def test_focus_applies_to_every_step_and_each_step_can_change_it(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(FOCUS.replace("    target: 15m", "    focus: {long_every: 2, auto: false}")
                    .replace("    title: Lecture", "    title: Lecture\n    focus: false"))
    review, lecture = load_config(path).steps
    assert review.focus == Focus(work=timedelta(minutes=25), break_=timedelta(seconds=20),
                                 long_break=timedelta(minutes=30), long_every=2, auto=False)
    assert lecture.focus is None


def test_focus_defaults_and_the_ways_to_turn_it_on(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(GOOD)
    assert [s.focus for s in load_config(path).steps] == [None, None]  # off unless asked for
    defaults = Focus(work=timedelta(minutes=50), break_=timedelta(minutes=10),
                     long_break=timedelta(minutes=30), long_every=4, auto=True)
    for top in ("focus: {}\n", "focus: true\n", "focus:\n"):
        path.write_text(GOOD + top)
        assert [s.focus for s in load_config(path).steps] == [defaults, defaults], top
    path.write_text(GOOD + "focus: false\n")
    assert [s.focus for s in load_config(path).steps] == [None, None]
    path.write_text(GOOD.replace("    target: 15m", "    focus: true"))  # one step, the defaults
    assert [s.focus for s in load_config(path).steps] == [defaults, None]
    path.write_text(FOCUS.replace("    target: 15m", "    focus: true"))  # one step, the top level
    assert load_config(path).focus_plans == (Focus(work=timedelta(minutes=25),
                                                   break_=timedelta(seconds=20)),) * 2


def test_the_break_scene_defaults_to_the_paused_one(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(GOOD + "obs:\n  scenes:\n    paused: Be right back\n")
    assert load_config(path).obs.scenes.break_ == "Be right back"
    path.write_text(GOOD + "obs:\n  scenes:\n    paused: Be right back\n    break: Coffee\n")
    assert load_config(path).obs.scenes.break_ == "Coffee"
    path.write_text(GOOD)
    assert load_config(path).obs.scenes.break_ is None
