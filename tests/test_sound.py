"""Sound cues: which occurrence the state lists, when, and under which name (pure core, literal
times); mute and test-sound from every door; `sounds:` in config.yaml; the files and the page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from overlay.config import Config, ConfigError, parse_config
from overlay.core import focus, sound, views
from overlay.core import session as core
from overlay.core.focus import Focus
from overlay.runtime.dispatcher import Dispatcher
from overlay.storage.store import Storage

from .conftest import ROUTINE, FakeClock

T = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
PLANS = (Focus(), Focus(auto=False))  # 50/10, long break 30 after every 4th; the second waits
TARGETS = (timedelta(minutes=20), None)


def at(minutes: float) -> datetime:
    return T + timedelta(minutes=minutes)


def run(*steps: tuple[float, core.Command], state: core.State | None = None) -> core.State:
    state = state or core.State()
    for minute, command in steps:
        state, _ = core.apply(state, command, at(minute), 2, PLANS)
    return state


def listed(state: core.State, minute: float, deadline: datetime | None = None,
           remind: tuple[timedelta, ...] = ()) -> list[tuple[str, float]]:
    """(name, minutes from T) of each occurrence listed at `minute`, as the snapshot lists them."""
    now = at(minute)
    found = sound.occurrences(core.caught_up(state, now, PLANS), now, TARGETS, deadline, remind)
    return [(o.id, (o.at - T) / timedelta(minutes=1)) for o in found]


# --- occurrences ------------------------------------------------------------------------------


def test_the_target_is_listed_ahead_and_moves_with_a_pause() -> None:
    state = run((0, core.Start()))
    assert listed(state, 0) == [("target:1:0", 20)]
    paused = run((10, core.Pause()), state=state)
    assert listed(paused, 15) == []  # a paused clock reaches nothing
    resumed = run((30, core.Resume()), state=paused)
    assert listed(resumed, 30) == [("target:1:0", 40)]  # 10 minutes left from 30
    assert listed(resumed, 40.9) == [("target:1:0", 40)]  # heard within the minute
    assert listed(resumed, 41.1) == []  # then it is over


def test_a_break_and_its_end_are_listed_from_their_moments_for_a_minute() -> None:
    state = run((0, core.Start()), (0, core.Goto(1)), (0, core.Goto(0)))  # no target reached
    state = run((10, core.Fail("x")), state=state)
    assert ("break:1:0:1", 50) in listed(state, 50)  # the service commits it at 50:00
    assert ("break:1:0:1", 50) in listed(state, 50.99)
    assert not any(name.startswith("break") for name, _ in listed(state, 51.01))
    assert ("focus:1:0:1", 60) in listed(state, 60.5)  # the break ends at 60:00: the next focus


def test_an_occurrence_keeps_its_name_and_moment_however_late_it_is_worked_out() -> None:
    state = run((0, core.Start()), (30, core.Pause()), (40, core.Resume()))
    # The focus ends at 60:00 (50 minutes of focus); one view at 60.2, another after a command.
    seen_then = listed(state, 60.2)
    later = run((60.5, core.Fail("")), state=state)
    assert ("break:1:0:1", 60) in seen_then and ("break:1:0:1", 60) in listed(later, 60.5)


def test_skip_while_paused_is_heard_at_the_skip() -> None:
    state = run((0, core.Start()), (5, core.Pause()), (7, focus.Skip()))
    assert listed(state, 7) == [("break:1:0:1", 7)]


def test_a_break_over_is_heard_once_not_again_when_the_focus_resumes() -> None:
    state = run((0, core.Start()), (0, core.Next()))  # the second step: auto off
    assert ("focus:1:1:1", 60) in listed(state, 60)  # "Break over" at 60:00
    resumed = run((60.5, core.Resume()), state=state)
    assert [n for n, _ in listed(resumed, 60.5) if n.startswith("focus")] == ["focus:1:1:1"]


def test_the_last_failure_is_listed_under_a_name_of_its_own() -> None:
    state = run((0, core.Start()), (1, core.Pause()), (2, core.Fail("a")), (2.5, core.Fail("b")))
    names = [n for n, _ in listed(state, 2.5)]
    assert names == ["fail:1:2:2026-11-24T18:02:30.000+00:00"]
    undone = run((2.6, core.UndoFail()), (2.7, core.Fail("c")), state=state)
    assert [n for n, _ in listed(undone, 2.7)] == ["fail:1:2:2026-11-24T18:02:42.000+00:00"]


def test_deadline_reminders_are_listed_an_hour_ahead() -> None:
    deadline = at(60 * 24 * 7 + 30)  # a week and 30 minutes from T
    remind = (timedelta(days=7), timedelta(hours=1))
    assert listed(core.State(), 0, deadline, remind) == [
        ("deadline:2026-12-01T18:30:00.000+00:00:168h", 30)]
    assert listed(core.State(), 31.5, deadline, remind) == []


async def test_names_mute_and_tests_are_the_same_after_the_file_is_read_back(tmp_path: Path) -> None:
    """A restart lists the same names: pages that played one never play it again."""
    config = parse_config(
        "steps:\n  - {id: a, title: A, target: 20m, focus: true}\n"
        "  - {id: b, title: B, focus: {auto: false}}\n"
        f"storage: {{path: {tmp_path / 's.sqlite3'}}}\n", base_dir=tmp_path)
    assert config.focus_plans == PLANS and tuple(st.target for st in config.steps) == TARGETS
    clock = FakeClock(T)
    storage = Storage(config.storage_path, config.steps)
    dispatcher = Dispatcher(config, storage, clock)
    for minute, command in ((0, core.Start()), (49.5, core.Fail("x")), (50.2, sound.TestSound("focus")),
                            (50.3, sound.Mute())):
        clock.now = at(minute)
        await dispatcher.dispatch(command, "test")
    before = dispatcher.state
    storage.close()
    storage = Storage(config.storage_path, config.steps)
    back, _ = storage.load()
    storage.close()
    assert back.muted and back.tested == before.tested
    assert listed(back, 50.4) == listed(before, 50.4)
    assert [n.split(":")[0] for n, _ in listed(back, 50.4)] == ["fail", "break", "test"]


# --- mute and test-sound ----------------------------------------------------------------------


def test_mute_unmute_and_toggle() -> None:
    state = run((0, sound.Mute()))
    assert state.muted
    with pytest.raises(sound.AlreadyMuted):
        run((1, sound.Mute()), state=state)
    state = run((1, sound.ToggleMute()), state=state)
    assert not state.muted
    with pytest.raises(sound.NotMuted):
        run((2, sound.Unmute()), state=state)


def test_a_test_sound_is_listed_and_refused_while_muted() -> None:
    state = run((3, sound.TestSound("fail")))
    assert listed(state, 3.5) == [("test:fail:2026-11-24T18:03:00.000+00:00", 3)]
    with pytest.raises(sound.MutedNow):
        run((4, sound.Mute()), (5, sound.TestSound("break")), state=state)
    with pytest.raises(sound.UnknownCue):
        run((5, sound.TestSound("gong")))


def snapshot_sound(config: Config, state: core.State, minute: float) -> dict[str, Any]:
    out: dict[str, Any] = views.snapshot(state, config, at(minute), 1)["sound"]
    return out


def test_the_snapshot_lists_only_cues_that_are_on_with_their_file_and_volume(tmp_path: Path) -> None:
    config = parse_config("steps:\n  - {id: a, title: A, target: 20m}\n"
                          "sounds: {target: {volume: 0.25}}\n", base_dir=tmp_path)
    state = run((0, core.Start()), (1, core.Fail("x")))
    assert snapshot_sound(config, state, 1) == {"muted": False, "cues": [  # fail is off by default
        {"id": "target:1:0", "cue": "target", "in_s": 19 * 60.0, "url": "/sounds/target", "volume": 0.25}]}
    tested = run((2, sound.TestSound("fail")), state=state)  # a test plays a cue even when off
    assert [c["cue"] for c in snapshot_sound(config, tested, 2)["cues"]] == ["fail", "target"]


# --- config.yaml ------------------------------------------------------------------------------

BASE = "steps:\n  - {id: a, title: A}\n"


def test_sounds_config(tmp_path: Path) -> None:
    (tmp_path / "gong.ogg").write_bytes(b"OggS")
    config = parse_config(BASE + "deadline: {at: '2027-03-01T18:00:00+01:00', remind: [1h, 7d, 1d]}\n"
                          "sounds:\n  fail: true\n  target: false\n  break: {file: gong.ogg, volume: 0}\n",
                          base_dir=tmp_path)
    cues = config.sounds.cues
    assert (cues["fail"].enabled, cues["target"].enabled, cues["focus"].enabled) == (True, False, True)
    assert cues["break"] == sound.Cue(enabled=True, file=str(tmp_path / "gong.ogg"), volume=0.0)
    assert config.deadline is not None
    assert config.deadline.remind == (timedelta(days=7), timedelta(days=1), timedelta(hours=1))


@pytest.mark.parametrize(("text", "message"), [
    ("sounds: {gong: true}\n", "sounds.gong (line 3): unknown key"),
    ("sounds: {break: loud}\n", "sounds.break (line 3): expected true, false or a mapping"),
    ("sounds: {break: {volume: 80}}\n", "sounds.break.volume (line 3): expected a number from 0 to 1"),
    ("sounds: {break: {volume: true}}\n", "sounds.break.volume (line 3)"),
    ("sounds: {break: {file: missing.wav}}\n", "sounds.break.file (line 3): cannot read 'missing.wav'"),
    ("sounds: {break: {file: notes.txt}}\n", "sounds.break.file (line 3): 'notes.txt' is not a sound file"),
    ("sounds: {break: {file: ''}}\n", "sounds.break.file (line 3): expected non-empty text"),
    ("deadline: {at: '2027-03-01T18:00:00Z', remind: 1d}\n", "deadline.remind (line 3): expected a list"),
    ("deadline: {at: '2027-03-01T18:00:00Z', remind: [1d, soon]}\n", "deadline.remind[1] (line 3)"),
])
def test_a_bad_sounds_config_names_the_key(text: str, message: str, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ConfigError) as info:
        parse_config(BASE + text, base_dir=tmp_path)
    assert message in str(info.value)


# --- the files and the page -------------------------------------------------------------------


async def test_each_cue_has_its_file_and_nothing_else_is_served(
    make_config: Callable[..., Config], clock: FakeClock, tmp_path: Path
) -> None:
    from aiohttp.test_utils import TestServer

    from overlay.app import build_app

    (tmp_path / "mine.wav").write_bytes(b"RIFF....WAVE")
    config = make_config(ROUTINE + "sounds: {fail: {file: mine.wav}}\n")
    async with TestClient(TestServer(build_app(config, Storage(config.storage_path, config.steps),
                                               clock=clock))) as client:
        for cue in sound.CUES:
            answer = await client.get(f"/sounds/{cue}")
            body = await answer.read()
            assert answer.status == 200, cue
            if cue == "fail":
                assert body == b"RIFF....WAVE"
            else:
                assert body[:4] == b"RIFF" and body[8:12] == b"WAVE" and len(body) > 10_000, cue
                assert answer.content_type in ("audio/wav", "audio/x-wav"), answer.content_type
        for path in ("/sounds/gong", "/sounds/..%2Fconfig.yaml", "/sounds/"):
            assert (await client.get(path)).status == 404, path
        page = await (await client.get("/overlay/sound")).text()
        assert "sound.js" in page and 'data-sound="on"' in page
        assert "sound.js" not in await (await client.get("/overlay/timer")).text()
        assert "sound.js" in await (await client.get("/overlay/timer?sound=on")).text()
        assert "sound.js" not in await (await client.get("/control")).text()
        answer = await client.post("/api/commands", json={"command": "test-sound", "cue": "gong"})
        assert answer.status == 400 and "not a sound cue" in (await answer.json())["error"]
