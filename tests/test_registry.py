"""The command registry is the one list of commands: every door and the README follow from it."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from overlay.config import parse_config
from overlay.core import commands, focus
from overlay.core import session as core
from overlay.doors.cli.main import _parser

from .conftest import ROUTINE

README = Path(__file__).resolve().parent.parent / "README.md"
STEPS = parse_config(ROUTINE, base_dir=Path(".")).steps


def _readme_commands() -> list[str]:
    """The commands named in the first cell of each row of the README's command table."""
    text = README.read_text()
    table = text.split("## Commands", 1)[1].split("\n\n", 2)[1]
    rows = [line.split("|")[1] for line in table.splitlines()[2:]]
    return [name for cell in rows for name in re.findall(r"`([a-z-]+)", cell)]


def test_every_command_has_a_line_in_the_readme_and_nothing_else_does() -> None:
    assert sorted(_readme_commands()) == sorted(commands.NAMES)


def test_every_command_is_in_the_readmes_command_line_list() -> None:
    block = README.read_text().split("## Command line", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    listed = set(re.findall(r"[a-z][a-z-]*", " ".join(
        line.split("#")[0].replace("study-overlay", "") for line in block.splitlines())))
    assert set(commands.NAMES) <= listed, set(commands.NAMES) - listed


@pytest.mark.parametrize("name", commands.NAMES)
def test_every_command_comes_in_through_json(name: str) -> None:
    spec = commands.COMMANDS[name]
    data: dict[str, object] = {"command": name}
    if spec.arg == commands.STEP_ARG:
        data["step"] = "lecture"
    elif spec.arg == commands.NOTE_ARG:
        data["note"] = "a note"
    elif spec.arg == commands.CUE_ARG:
        data["cue"] = "break"
    command = commands.parse(data, STEPS)
    assert command.name == name
    assert commands.parse(commands.to_dict(command, STEPS), STEPS) == command  # the log reads back


@pytest.mark.parametrize("name", commands.NAMES)
def test_every_command_is_a_cli_subcommand(name: str) -> None:
    spec = commands.COMMANDS[name]
    argv = [name, *({commands.STEP_ARG: ["2"], commands.CUE_ARG: ["break"]}.get(spec.arg or "", []))]
    assert _parser().parse_args(argv).cmd == name


@pytest.mark.parametrize("name", commands.NAMES)
def test_every_command_without_a_step_or_cue_can_be_bound_to_a_key(name: str) -> None:
    spec = commands.COMMANDS[name]
    text = ROUTINE + f'hotkeys:\n  bindings:\n    "ctrl+alt+f9": {name}\n'
    if spec.arg in (commands.STEP_ARG, commands.CUE_ARG):
        with pytest.raises(Exception, match="unknown command"):
            parse_config(text, base_dir=Path("."))
    else:
        bindings = parse_config(text, base_dir=Path(".")).hotkeys.bindings
        assert list(bindings.values()) == [spec.make()]


def test_reset_and_finish_need_a_second_press_of_a_hotkey() -> None:
    assert commands.CONFIRM == {core.Reset.name, core.Finish.name}


def test_a_malformed_command_is_a_bad_command() -> None:
    for data in ([], {"command": 3}, {"command": "jump"}, {"command": "next", "step": 2},
                 {"command": "goto"}, {"command": "goto", "step": True}, {"command": "fail", "note": 5},
                 {"command": "fail", "note": "x" * 281}, {"command": "follow", "step": "nowhere"},
                 {"command": "test-sound"}, {"command": "test-sound", "cue": "gong"},
                 {"command": "test-sound", "cue": 1}, {"command": "mute", "cue": "break"}):
        with pytest.raises(commands.BadCommand):
            commands.parse(data, STEPS)


def test_extend_and_shorten_take_a_duration_as_text_or_seconds() -> None:
    assert commands.parse({"command": "extend"}, STEPS) == focus.Extend(timedelta(minutes=5))
    assert commands.parse({"command": "extend", "duration": "10m"}, STEPS) == focus.Extend(
        timedelta(minutes=10))
    assert commands.parse({"command": "shorten", "duration": 90}, STEPS) == focus.Shorten(
        timedelta(seconds=90))
    given = focus.Shorten(timedelta(hours=1, minutes=2, seconds=3, milliseconds=400))
    assert commands.to_dict(given, STEPS) == {"command": "shorten", "duration": "1h2m3s400ms"}
    assert commands.parse(commands.to_dict(given, STEPS), STEPS) == given
    assert _parser().parse_args(["extend", "10m"]).duration == "10m"
    assert _parser().parse_args(["extend"]).duration is None


@pytest.mark.parametrize("duration", ["", "ten", "10", "0s", "25h", 0, -5, True, 1e300, [5], {"m": 5}])
def test_a_bad_duration_is_a_bad_command(duration: object) -> None:
    with pytest.raises(commands.BadCommand, match='"duration"'):
        commands.parse({"command": "extend", "duration": duration}, STEPS)


def test_the_services_own_command_is_logged_but_no_door_takes_it() -> None:
    assert commands.to_dict(focus.CatchUp(), STEPS) == {"command": "catch-up"}
    with pytest.raises(commands.BadCommand, match="unknown command"):
        commands.parse({"command": "catch-up"}, STEPS)
