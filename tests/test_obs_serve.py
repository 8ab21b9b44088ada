"""The whole service against a real OBS: steps switch scenes, OBS's own switches move the session."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.obs_harness import Obs, require_obs, running_obs, scene_events

from .procs import ServerProcess, free_port, post, wait_for, write_obs_config

pytestmark = pytest.mark.obs

SCENES = ["Review", "Lecture", "Lecture (practice)", "Reading", "Questionnaire", "Project",
          "Break", "Finished", "Elsewhere"]


def _write(folder: Path, port: int, obs: Obs, password: str | None) -> Path:
    return write_obs_config(folder, port, obs.port, password or obs.password)


@pytest.fixture(scope="module")
def obs() -> Iterator[Obs]:
    require_obs()
    with running_obs(SCENES) as (_xvfb, obs):
        obs.wait_ready()
        yield obs


@pytest.fixture
def server(obs: Obs, tmp_path: Path) -> Iterator[ServerProcess]:
    obs.switch_and_settle("Elsewhere")
    port = free_port()
    proc = ServerProcess(_write(tmp_path, port, obs, None), port).start()
    try:
        yield proc
    finally:
        proc.stop()


def test_steps_pause_and_finish_switch_the_program_scene(obs: Obs, server: ServerProcess) -> None:
    wait_for(lambda: server.state()["obs"]["state"] == "connected", "link connected")
    post(server.url, {"command": "start"})
    wait_for(lambda: obs.program_scene() == "Review", "Review scene")
    post(server.url, {"command": "next"})
    wait_for(lambda: obs.program_scene() == "Lecture", "Lecture scene")
    post(server.url, {"command": "pause"})
    wait_for(lambda: obs.program_scene() == "Break", "Break while paused")
    post(server.url, {"command": "resume"})
    wait_for(lambda: obs.program_scene() == "Lecture", "back to Lecture")
    post(server.url, {"command": "finish"})
    wait_for(lambda: obs.program_scene() == "Finished", "Finished scene")


def test_a_scene_switched_in_obs_moves_the_session(obs: Obs, server: ServerProcess) -> None:
    wait_for(lambda: server.state()["obs"]["state"] == "connected", "link connected")
    post(server.url, {"command": "start"})
    wait_for(lambda: obs.program_scene() == "Review", "Review scene")
    obs.request("SetCurrentProgramScene", {"sceneName": "Reading"})
    wait_for(lambda: server.state()["step"]["id"] == "reading", "session follows to reading")
    assert "follow via obs" in server.output()
    post(server.url, {"command": "pause"})
    wait_for(lambda: obs.program_scene() == "Break", "Break while paused")
    obs.request("SetCurrentProgramScene", {"sceneName": "Project"})
    snap = wait_for(lambda: (s := server.state())["step"]["id"] == "project" and s, "follows to project")
    assert snap["phase"] == "running"  # leaving the break scene for a step ends the break
    time.sleep(0.5)
    assert obs.program_scene() == "Project"  # and OBS is not switched back to Break


def test_leaving_the_break_for_a_step_scene_shows_only_that_scene(
    obs: Obs, server: ServerProcess
) -> None:
    """Viewers must never see a flash of the old step's scene when the streamer leaves the break."""
    wait_for(lambda: server.state()["obs"]["state"] == "connected", "link connected")
    post(server.url, {"command": "start"})
    wait_for(lambda: obs.program_scene() == "Review", "Review scene")
    post(server.url, {"command": "pause"})
    wait_for(lambda: obs.program_scene() == "Break", "Break while paused")
    rev = server.state()["rev"]
    with scene_events(obs.port, obs.password) as seen:
        obs.request("SetCurrentProgramScene", {"sceneName": "Project"})
        snap = wait_for(lambda: (s := server.state())["step"]["id"] == "project" and s, "follows")
        time.sleep(1.5)  # room for any wrong switch and its echo to arrive
        scenes = []
        while not seen.empty():
            scenes.append(seen.get())
    assert scenes == ["Project"]
    assert snap["phase"] == "running"
    assert server.state()["rev"] == rev + 1  # one command: resume and move together


def test_obs_started_after_the_service_gets_synced(obs: Obs, tmp_path: Path) -> None:
    obs.quit()
    port = free_port()
    server = ServerProcess(_write(tmp_path, port, obs, None), port).start()
    try:
        post(server.url, {"command": "start"})
        post(server.url, {"command": "next"})
        snap = server.state()
        assert snap["phase"] == "running" and snap["obs"]["state"] == "error"
        assert "not reachable" in snap["obs"]["reason"]
        obs.start()
        obs.wait_ready()
        wait_for(lambda: server.state()["obs"]["state"] == "connected", "link connected")
        wait_for(lambda: obs.program_scene() == "Lecture", "resynced to the current step")
    finally:
        server.stop()


def test_a_wrong_password_is_a_clear_link_error(obs: Obs, tmp_path: Path) -> None:
    port = free_port()
    server = ServerProcess(_write(tmp_path, port, obs, "not-the-password"), port).start()
    try:
        snap = wait_for(lambda: (s := server.state())["obs"]["state"] == "error" and s, "link error")
        assert "wrong password" in snap["obs"]["reason"]
        assert post(server.url, {"command": "start"})[0] == 200
    finally:
        server.stop()


def test_a_frozen_obs_never_holds_up_commands_and_is_resynced_after(obs: Obs, server: ServerProcess) -> None:
    wait_for(lambda: server.state()["obs"]["state"] == "connected", "link connected")
    post(server.url, {"command": "start"})
    wait_for(lambda: obs.program_scene() == "Review", "Review scene")
    obs.freeze()
    try:
        for command in ("next", "next", "fail"):
            status, snap = post(server.url, {"command": command}, timeout=2)
            assert status == 200
        assert snap["step"]["id"] == "practice" and snap["failures"]["session"] == 1
        wait_for(lambda: server.state()["obs"]["state"] == "error", "link reports the frozen OBS")
    finally:
        obs.thaw()
    wait_for(lambda: server.state()["obs"]["state"] == "connected", "link back")
    wait_for(lambda: obs.program_scene() == "Lecture (practice)", "resynced to the current step")


def test_focus_and_break_switch_the_scene_on_time_and_back(obs: Obs, tmp_path: Path) -> None:
    """Short cycles (2 s of focus, 2 s breaks, a 3 s long break after every second focus): each
    boundary is one scene switch at its moment, seen by an independent OBS client; switching to
    the step's scene during a break ends the break (follow mode)."""
    obs.switch_and_settle("Elsewhere")
    port = free_port()
    path = _write(tmp_path, port, obs, None)
    path.write_text(path.read_text() + "focus: {work: 2s, break: 2s, long_break: 3s, long_every: 2}\n")
    server = ServerProcess(path, port).start()
    try:
        wait_for(lambda: server.state()["obs"]["state"] == "connected", "link connected")
        with scene_events(obs.port, obs.password) as seen:
            switches: list[tuple[float, str]] = []  # (wall-clock time it was seen, scene)
            done = threading.Event()

            def drain() -> None:
                while not done.is_set():
                    try:
                        scene = seen.get(timeout=0.1)
                    except queue.Empty:
                        continue
                    switches.append((time.time(), scene))

            reader = threading.Thread(target=drain, daemon=True)
            reader.start()
            status, snap = post(server.url, {"command": "start"})
            assert status == 200
            started = datetime.fromisoformat(snap["session"]["started_at"]).timestamp()
            wait_for(lambda: len(switches) >= 5, "five scene switches", timeout=20)
            done.set()
            reader.join(2)
            moments = [(round(t - started, 2), scene) for t, scene in switches[:5]]
            print("scene switches, seconds after start:", moments)
            assert [scene for _, scene in moments] == ["Review", "Break", "Review", "Break", "Review"]
            # focus 2 s, break 2 s, focus 2 s, long break 3 s: each switch within 1 s of its moment
            for (got, _), want in zip(moments[1:], (2, 4, 6, 9), strict=True):
                assert want <= got < want + 1.0, (moments, want)
            # During the next break, the streamer switches OBS back to the step's scene.
            wait_for(lambda: server.state()["focus"]["phase"] == "break", "the third break", timeout=10)
            obs.request("SetCurrentProgramScene", {"sceneName": "Review"})
            snap = wait_for(lambda: (s := server.state())["focus"]["phase"] == "focus" and s,
                            "the break ends by follow")
            assert snap["focus"]["cycle"] == 4 and snap["step"]["id"] == "review"
    finally:
        server.stop()
