"""ObsLink against a real OBS 29 / obs-websocket 5 under Xvfb (one OBS shared per module)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import obsws_python
import pytest

from overlay.doors.obs.link import FOLLOW_DEBOUNCE, LinkStatus, ObsLink, close_client, connect
from tests.obs_harness import (
    Obs,
    Xvfb,
    require_obs,
    running_obs,
    scene_events,
    wait_for_scene_event,
)

pytestmark = pytest.mark.obs

HOME = "Review"
SCENES = [HOME, "Lecture", "Lecture (practice)", "Reading", "Questionnaire", "Project",
          "Break", "Finished"]
HOTKEYS = {"Reading": "OBS_KEY_F5", "Project": "OBS_KEY_F6"}
FAST = {"probe_interval": 0.5, "request_timeout": 1.5, "backoff_initial": 0.1,
        "backoff_max": 1.0}


@dataclass
class Recorder:
    statuses: list[LinkStatus] = field(default_factory=list)
    scenes: list[str] = field(default_factory=list)


async def eventually(predicate: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture(scope="module")
def obs_env() -> Iterator[tuple[Xvfb, Obs]]:
    require_obs()
    with running_obs(SCENES, hotkeys=HOTKEYS) as env:
        yield env


@pytest.fixture
def obs(obs_env: tuple[Xvfb, Obs]) -> Obs:
    """The shared OBS, running, thawed and settled on HOME, whatever the last test did."""
    _, instance = obs_env
    assert instance.proc is not None
    if instance.proc.poll() is not None:
        instance.start()
    instance.thaw()
    try:
        instance.wait_ready(timeout=15)
    except AssertionError:  # a previous test left it hung: start afresh
        instance.kill()
        instance.start()
    instance.switch_and_settle(HOME)
    return instance


@pytest.fixture
async def make_link() -> AsyncIterator[Callable[..., tuple[ObsLink, Recorder]]]:
    links: list[ObsLink] = []

    def make(obs: Obs, **kw: Any) -> tuple[ObsLink, Recorder]:
        rec = Recorder()
        options: dict[str, Any] = {"host": "127.0.0.1", "port": obs.port,
                                   "password": obs.password, **FAST, **kw}
        link = ObsLink(on_status=rec.statuses.append, on_scene_changed=rec.scenes.append,
                       **options)
        links.append(link)
        return link, rec

    yield make
    for link in links:
        await link.stop()


async def started(link: ObsLink) -> ObsLink:
    await link.start()
    await eventually(lambda: link.status.state == "connected", "the link to connect")
    return link


async def prove_no_echo(obs: Obs, rec: Recorder, seen: queue.Queue[str], own: str,
                        sentinel: str = "Finished") -> None:
    """Only a later foreign switch is reported, though OBS reported our switch to `own` first.

    `seen` is an independent client's view of OBS's events, opened before our switch. OBS
    reports a switch when its transition ends, and only the last of overlapping ones: a
    sentinel sent before that would swallow the echo, so wait until the echo has gone out.
    """
    assert own != sentinel, "OBS reports no switch to the scene it is already on"
    await asyncio.to_thread(wait_for_scene_event, seen, own)
    # The link delivers a foreign scene FOLLOW_DEBOUNCE after its event, unless a later one
    # replaces it: keep the sentinel's event well clear of the echo's.
    await asyncio.sleep(3 * FOLLOW_DEBOUNCE)
    obs.request("SetCurrentProgramScene", {"sceneName": sentinel})
    await eventually(lambda: sentinel in rec.scenes, "the foreign switch to be reported")
    assert rec.scenes == [sentinel]


def obs_events(obs: Obs) -> contextlib.AbstractContextManager[queue.Queue[str]]:
    """Every program scene OBS reports from now on, as a client other than the link sees it."""
    return scene_events(obs.port, obs.password)


async def test_want_scene_switches_program_scene_without_reporting_it(obs: Obs, make_link):
    link, rec = make_link(obs)
    await started(link)
    with obs_events(obs) as seen:
        link.want_scene("Lecture")
        await eventually(lambda: obs.program_scene() == "Lecture", "OBS to show Lecture")
        await prove_no_echo(obs, rec, seen, "Lecture")
    assert rec.statuses == [LinkStatus("connecting"), LinkStatus("connected")]


async def test_several_own_switches_in_flight_are_not_reported(obs: Obs, make_link):
    link, rec = make_link(obs)
    await started(link)
    with obs_events(obs) as seen:
        link.want_scene("Lecture")
        await eventually(lambda: obs.program_scene() == "Lecture", "OBS to start on Lecture")
        # The Fade transition to Lecture is still running: these land while it is in flight.
        link.want_scene("Reading")
        link.want_scene("Project")
        await asyncio.sleep(0.05)
        link.want_scene("Questionnaire")
        await eventually(lambda: obs.program_scene() == "Questionnaire",
                         "OBS to show Questionnaire")
        # The link waits for Lecture's echo before it switches again: both were reported.
        await asyncio.to_thread(wait_for_scene_event, seen, "Lecture")
        await prove_no_echo(obs, rec, seen, "Questionnaire")


async def test_scene_switched_in_obs_reaches_on_scene_changed(obs: Obs, obs_env, make_link):
    xvfb, _ = obs_env
    link, rec = make_link(obs)
    await started(link)
    obs.request("SetCurrentProgramScene", {"sceneName": "Break"})
    await eventually(lambda: rec.scenes == ["Break"], "a switch by another client")
    obs.request("TriggerHotkeyByKeySequence", {"keyId": HOTKEYS["Reading"]})
    await eventually(lambda: rec.scenes == ["Break", "Reading"], "the F5 scene hotkey")
    xvfb.xdotool("key", "F6")  # a real key press on OBS's X display
    await eventually(lambda: rec.scenes == ["Break", "Reading", "Project"], "xdotool F6")
    assert obs.program_scene() == "Project"


async def test_obs_absent_at_start_then_started_connects_and_resyncs(
        obs: Obs, make_link, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    obs.close()
    link, rec = make_link(obs)
    t0 = time.monotonic()
    await link.start()
    link.want_scene("Questionnaire")
    assert time.monotonic() - t0 < 0.5, "start and want_scene must not wait on OBS"
    refused = LinkStatus("error", f"OBS not reachable at 127.0.0.1:{obs.port} (connection refused)")
    await eventually(lambda: link.status == refused, "a connection-refused status")
    await asyncio.sleep(1.5)  # several retries at backoff 0.1..1.0 s
    obs.start()
    await eventually(lambda: link.status.state == "connected", "the link to connect")
    await eventually(lambda: obs.program_scene() == "Questionnaire", "resync to Questionnaire")
    # A listener cannot be in place before the resync, which happens as the link connects;
    # the link waits for the resync's echo before its next switch, so both echoes are out.
    with obs_events(obs) as seen:
        link.want_scene("Lecture")
        await prove_no_echo(obs, rec, seen, "Lecture")
    assert [s.state for s in rec.statuses] == ["connecting", "error", "connected"]
    ours = [r for r in caplog.records if r.name == "overlay.doors.obs.link"]
    assert len(ours) == 3 and not any(r.exc_info for r in ours), caplog.text
    assert not [r for r in caplog.records if r.name.startswith("obsws_python")]
    assert obs.password not in caplog.text


async def test_obs_restarted_reconnects_and_resyncs(obs: Obs, make_link):
    link, rec = make_link(obs)
    await started(link)
    link.want_scene("Reading")
    await eventually(lambda: obs.program_scene() == "Reading", "OBS to show Reading")

    seen = len(rec.statuses)
    clean = obs.quit()  # as when closing its window: OBS says ExitStarted first
    await eventually(lambda: link.status.state == "error", "the link to notice OBS quitting", 30)
    # The first error names the cause; later retries may already say "not reachable".
    first = next(s for s in rec.statuses[seen:] if s.state == "error")
    # OBS 29 can stall for seconds while shutting down (and then exit or hang); a probe that
    # times out meanwhile is the honest first word.
    expected = ["OBS is shutting down", "OBS closed the connection", "OBS not answering (frozen?)"]
    if not clean:  # OBS hung on quit and the harness killed it
        expected.append(f"OBS not reachable at 127.0.0.1:{obs.port} (connection refused)")
    assert first.reason in expected, rec.statuses[seen:]
    obs.start()  # starts on HOME, not on Reading
    await eventually(lambda: obs.program_scene() == "Reading", "resync after a restart")

    obs.kill()  # SIGKILL: no goodbye at all
    await eventually(lambda: link.status.state == "error", "the link to notice OBS dying")
    obs.start()
    await eventually(lambda: link.status.state == "connected", "a reconnect after SIGKILL")
    await eventually(lambda: obs.program_scene() == "Reading", "resync after SIGKILL")
    # A listener cannot be in place before the resync, which happens as the link connects;
    # the link waits for the resync's echo before its next switch, so both echoes are out.
    with obs_events(obs) as seen:
        link.want_scene("Lecture")
        await prove_no_echo(obs, rec, seen, "Lecture")


async def test_frozen_obs_never_blocks_and_recovers(obs: Obs, make_link):
    link, rec = make_link(obs)
    await started(link)
    obs.freeze()
    try:
        await eventually(lambda: link.status.state in ("error", "connecting"),
                         "the link to notice OBS froze", timeout=10)
        assert link.status.reason == "OBS not answering (frozen?)"
        t0 = time.monotonic()
        link.want_scene("Project")
        link.emit_custom_event({"step": "Project"})
        other, _ = make_link(obs)
        await other.start()
        await asyncio.sleep(0.3)  # let it block in a connect to the frozen OBS
        await other.stop()
        assert time.monotonic() - t0 < 3.0, "start/stop/want_scene must not wait on a frozen OBS"
        assert other.status == LinkStatus("off")
    finally:
        obs.thaw()
    await eventually(lambda: link.status.state == "connected", "recovery after SIGCONT", 20)
    await eventually(lambda: obs.program_scene() == "Project", "resync after SIGCONT")


@pytest.mark.parametrize(("password", "reason"), [
    ("wrong", "authentication failed: wrong password"),
    ("", "authentication failed: OBS requires a password"),
])
async def test_bad_password_is_a_clear_error(obs: Obs, make_link, password: str, reason: str):
    link, rec = make_link(obs, password=password)
    await link.start()
    await eventually(lambda: link.status == LinkStatus("error", reason), reason)
    await asyncio.sleep(1.0)  # retries keep the same status, reported once
    assert rec.statuses == [LinkStatus("connecting"), LinkStatus("error", reason)]
    await link.stop()
    assert link.status == LinkStatus("off")


async def test_custom_event_reaches_other_obs_clients(obs: Obs, make_link):
    received: queue.Queue[dict[str, Any]] = queue.Queue()

    class Listener:
        def on_custom_event(self, data: Any) -> None:
            received.put({name: getattr(data, name) for name in data.attrs()})

    listener = connect(obsws_python.EventClient, host="127.0.0.1", port=obs.port,
                       password=obs.password, timeout=5.0, subs=obsws_python.Subs.GENERAL)
    try:
        listener.callback.register(Listener().on_custom_event)
        link, _ = make_link(obs)
        await started(link)
        link.emit_custom_event({"source": "study-overlay", "step": "Reading", "rev": 7})
        got = await asyncio.to_thread(received.get, timeout=10)
    finally:
        close_client(listener)
    assert got == {"source": "study-overlay", "step": "Reading", "rev": 7}


async def test_the_real_obs_29_has_no_chapters_and_says_so_once(obs: Obs, make_link, caplog):
    """OBS 29 (obs-websocket 5.1) lacks CreateRecordChapter: chapters are skipped with one line,
    and the link goes on switching scenes."""
    caplog.set_level(logging.INFO, logger="overlay.doors.obs.link")
    version = obs.request("GetVersion")
    assert "CreateRecordChapter" not in version["availableRequests"], version["obsVersion"]
    link, _ = make_link(obs)
    await started(link)
    for name in ("1 · Review", "2 · Lecture", "2 · Break"):
        link.add_chapter(name)
    await eventually(lambda: any("recording chapters" in r.getMessage() for r in caplog.records), "the line")
    link.want_scene("Lecture")
    await eventually(lambda: obs.program_scene() == "Lecture", "a switch after the chapters")
    lines = [r.getMessage() for r in caplog.records if "recording chapters" in r.getMessage()]
    assert len(lines) == 1 and "CreateRecordChapter needs OBS 30.2" in lines[0], lines
    assert link.status.state == "connected"


async def test_studio_mode_program_and_preview(obs: Obs, make_link):
    obs.request("SetStudioModeEnabled", {"studioModeEnabled": True})
    try:
        obs.request("SetCurrentPreviewScene", {"sceneName": "Break"})
        preview_link, _ = make_link(obs, studio_mode="preview")
        await started(preview_link)
        preview_link.want_scene("Lecture")
        await eventually(lambda: obs.request("GetCurrentPreviewScene")[
            "currentPreviewSceneName"] == "Lecture", "the preview to show Lecture")
        assert obs.program_scene() == HOME
        await preview_link.stop()

        program_link, rec = make_link(obs)
        await started(program_link)
        with obs_events(obs) as seen:
            program_link.want_scene("Reading")
            await eventually(lambda: obs.program_scene() == "Reading",
                             "the program to show Reading")
            # OBS's default "swap scenes" puts the old program into the preview, as its
            # button does.
            await eventually(lambda: obs.request("GetCurrentPreviewScene")[
                "currentPreviewSceneName"] == HOME, "the old program in the preview")
            await prove_no_echo(obs, rec, seen, "Reading")
    finally:
        obs.request("SetStudioModeEnabled", {"studioModeEnabled": False})


async def test_leaving_studio_mode_reports_only_the_final_scene(obs: Obs, make_link):
    link, rec = make_link(obs)
    await started(link)
    obs.request("SetStudioModeEnabled", {"studioModeEnabled": True})
    obs.request("SetCurrentPreviewScene", {"sceneName": "Break"})
    # OBS reports the preview, then the program again, a fraction of a millisecond apart.
    obs.request("SetStudioModeEnabled", {"studioModeEnabled": False})
    await eventually(lambda: rec.scenes == [HOME], "the final scene to be reported")
    obs.request("SetCurrentProgramScene", {"sceneName": "Lecture"})
    await eventually(lambda: "Lecture" in rec.scenes, "a later foreign switch")
    assert rec.scenes == [HOME, "Lecture"]


async def test_missing_scene_is_logged_and_the_link_stays_up(
        obs: Obs, make_link, caplog: pytest.LogCaptureFixture):
    link, rec = make_link(obs)
    await started(link)
    link.want_scene("No such scene")
    await eventually(lambda: "cannot switch to scene 'No such scene'" in caplog.text,
                     "a warning about the missing scene")
    with obs_events(obs) as seen:
        link.want_scene("Lecture")
        await eventually(lambda: obs.program_scene() == "Lecture", "the next wish to apply")
        assert link.status == LinkStatus("connected")
        await prove_no_echo(obs, rec, seen, "Lecture")
