"""Sounds in a real Chromium, started with the autoplay policy OBS gives its browser sources:
each cue plays once, with its file and volume, really plays, never again after a reload, and
not at all while muted. `play()` is counted by wrapping it, and the element's clock is read."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from overlay.app import build_app
from overlay.config import load_config
from overlay.storage.store import Storage

from .browser import AppServer, command, new_page, running_chromium, wait_live, write_config
from .procs import ServerProcess, free_port

# OBS starts its browser (CEF) with this flag, so a source plays without a click.
OBS_AUTOPLAY = "--autoplay-policy=no-user-gesture-required"
CONFIG = """\
steps:
  - {id: review, title: Review last notes, target: 2s}
  - {id: lecture, title: Watch the lecture}
sounds:
  fail: {volume: 0.3}
hotkeys: {enabled: false}
"""
# Every play() with what it played; the elements, to read their clocks.
COUNT_PLAYS = """
window.__plays = [];
window.__audios = [];
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  window.__plays.push({src: new URL(this.src).pathname, volume: this.volume, at: performance.now()});
  if (!window.__audios.includes(this)) window.__audios.push(this);
  return play.call(this);
};
"""


@pytest.fixture(scope="module")
def obs_browser() -> Iterator[Browser]:
    yield from running_chromium(OBS_AUTOPLAY)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[AppServer]:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG + f"storage: {{path: {tmp_path / 'study.sqlite3'}}}\n")
    config = load_config(path)
    with AppServer(lambda: build_app(config, Storage(config.storage_path, config.steps))) as server:
        yield server


@pytest.fixture
def sound_page(obs_browser: Browser, site: AppServer) -> Iterator[Page]:
    with new_page(obs_browser, 300, 200) as page:
        page.add_init_script(COUNT_PLAYS)
        page.goto(f"{site.url}/overlay/sound")
        wait_live(page)
        yield page


def plays(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate("() => window.__plays")
    return found


def wait_plays(page: Page, count: int) -> list[dict[str, Any]]:
    page.wait_for_function("(n) => window.__plays.length >= n", arg=count, timeout=10_000, polling=20)
    time.sleep(0.5)  # and no more come
    return plays(page)


@pytest.mark.chromium
def test_each_cue_plays_once_with_its_file_and_volume(site: AppServer, sound_page: Page) -> None:
    command(site, "start")
    command(site, "pause")  # the target (2 s) must not come in the middle
    command(site, "fail", note="sign error")
    assert [(p["src"], p["volume"]) for p in wait_plays(sound_page, 1)] == [("/sounds/fail", 0.3)]
    command(site, "test-sound", cue="break")
    got = wait_plays(sound_page, 2)
    assert [(p["src"], p["volume"]) for p in got] == [("/sounds/fail", 0.3), ("/sounds/break", 0.8)]
    command(site, "resume")  # other snapshots list the same occurrences: nothing plays again
    command(site, "pause")
    time.sleep(0.5)
    assert len(plays(sound_page)) == 2


@pytest.mark.chromium
def test_the_sound_really_plays(site: AppServer, sound_page: Page) -> None:
    command(site, "test-sound", cue="break")
    wait_plays(sound_page, 1)
    # The element's clock moves only while the browser plays it (break.wav lasts 1.6 s).
    sound_page.wait_for_function("() => window.__audios[0].currentTime > 0.2", timeout=10_000)
    assert sound_page.evaluate("() => window.__audios[0].error") is None


@pytest.mark.chromium
def test_a_timed_cue_plays_at_its_moment_with_no_command(site: AppServer, sound_page: Page) -> None:
    started = sound_page.evaluate("() => performance.now()")
    command(site, "start")  # the first step's target is 2 s
    got = wait_plays(sound_page, 1)
    assert [p["src"] for p in got] == ["/sounds/target"]
    assert 1800 <= got[0]["at"] - started <= 4000, got[0]["at"] - started


@pytest.mark.chromium
def test_a_reload_during_a_cue_does_not_play_it_again(site: AppServer, sound_page: Page) -> None:
    command(site, "test-sound", cue="focus")
    wait_plays(sound_page, 1)
    sound_page.reload()
    wait_live(sound_page)
    snap = sound_page.evaluate("() => window.StudyOverlay.snapshot()")
    assert [c["cue"] for c in snap["sound"]["cues"]] == ["focus"]  # still listed by the server
    time.sleep(0.5)
    assert plays(sound_page) == []  # this load played nothing


@pytest.mark.chromium
def test_mute_silences_every_cue_and_they_do_not_come_back_later(
    site: AppServer, sound_page: Page
) -> None:
    command(site, "start")
    command(site, "pause")
    command(site, "mute")
    command(site, "fail")
    time.sleep(0.5)
    assert plays(sound_page) == []
    command(site, "unmute")
    time.sleep(0.5)
    assert plays(sound_page) == []  # what came due while muted is skipped, not saved up
    command(site, "fail")
    assert [p["src"] for p in wait_plays(sound_page, 1)] == ["/sounds/fail"]


@pytest.mark.chromium
def test_an_overlay_plays_only_with_sound_on_and_the_dock_never_by_itself(
    obs_browser: Browser, site: AppServer
) -> None:
    with new_page(obs_browser, 500, 200) as timer, new_page(obs_browser, 900, 900) as dock, \
            new_page(obs_browser, 500, 200) as quiet:
        for page, path in ((timer, "/overlay/timer?sound=on"), (dock, "/control"), (quiet, "/overlay/timer")):
            page.add_init_script(COUNT_PLAYS)
            page.goto(site.url + path)
            wait_live(page)
        command(site, "test-sound", cue="deadline")
        assert [p["src"] for p in wait_plays(timer, 1)] == ["/sounds/deadline"]
        assert plays(dock) == [] and plays(quiet) == []


@pytest.mark.chromium
def test_a_kill_9_and_restart_of_the_service_does_not_play_a_cue_again(
    obs_browser: Browser, tmp_path: Path
) -> None:
    """The page reconnects to a new process, which lists the same occurrence under the same
    name (it is in the file): the page remembers it played it."""
    port = free_port()
    config = write_config(tmp_path, port, routine=CONFIG)
    server = ServerProcess(config, port).start()
    try:
        with new_page(obs_browser, 300, 200) as page:
            page.add_init_script(COUNT_PLAYS)
            page.goto(f"{server.url}/overlay/sound")
            wait_live(page)
            command(server, "test-sound", cue="break")
            wait_plays(page, 1)
            server.kill9()
            page.wait_for_function("() => document.documentElement.classList.contains('is-offline')")
            server = ServerProcess(config, port).start()
            wait_live(page)
            names = [c["id"] for c in page.evaluate("() => window.StudyOverlay.snapshot()")["sound"]["cues"]]
            assert len(names) == 1 and names[0].startswith("test:break:")  # listed again, same name
            time.sleep(0.5)
            assert len(plays(page)) == 1  # and not played again
    finally:
        server.stop()
