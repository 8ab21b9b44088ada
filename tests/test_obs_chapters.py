"""Recording chapters at every step and break: against a stand-in speaking obs-websocket 5.5
(CreateRecordChapter is OBS 30.2+; the real OBS here is 29), and skipped with one log line
where OBS has none (the stand-in as 30.0, and the real OBS 29 in test_obs_link.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .fake_obs import FakeObs
from .procs import ServerProcess, free_port, post, wait_for, write_obs_config

SCENES = ["Review", "Lecture", "Lecture (practice)", "Reading", "Questionnaire", "Project", "Break",
          "Finished"]


def obs_config(tmp_path: Path, obs: FakeObs, extra: str = "") -> tuple[Path, int]:
    port = free_port()
    return write_obs_config(tmp_path, port, obs.port, obs.password, extra), port


@pytest.fixture
def obs30() -> Iterator[FakeObs]:
    with FakeObs(SCENES) as obs:
        yield obs


def test_each_step_and_break_is_a_chapter_of_the_recording(tmp_path: Path, obs30: FakeObs) -> None:
    config, port = obs_config(tmp_path, obs30, "focus: {work: 50m}\n")
    server = ServerProcess(config, port).start()
    try:
        wait_for(lambda: server.state()["obs"]["state"] == "connected", "linked")
        post(server.url, {"command": "start"})  # not recording yet: no chapter
        wait_for(lambda: "GetRecordStatus" in obs30.requests, "the start's chapter looked at")
        obs30.recording = True
        for command in ({"command": "next"}, {"command": "skip"}, {"command": "skip"},
                        {"command": "goto", "step": "project"}):
            post(server.url, command)
        steps = [s["title"] for s in server.state()["steps"]]
        wait_for(lambda: len(obs30.chapters) >= 4, "four chapters")
        time.sleep(0.5)
        assert obs30.chapters == [f"2 \u00b7 {steps[1]}", "2 \u00b7 Break", f"2 \u00b7 {steps[1]}",
                                  f"6 \u00b7 {steps[5]}"]
        obs30.format_has_chapters = False  # a format without chapters: one line, never an error
        post(server.url, {"command": "prev"})
        post(server.url, {"command": "prev"})
        wait_for(lambda: "chapters need the Hybrid MP4 recording format" in server.output(), "the line")
        time.sleep(0.5)
        assert server.output().count("chapters need the Hybrid MP4") == 1
        assert server.state()["obs"]["state"] == "connected"
    finally:
        server.stop()


def test_an_obs_without_chapters_is_skipped_with_one_line(tmp_path: Path) -> None:
    with FakeObs(SCENES, chapters=False, version="30.0.2", ws_version="5.4.2") as obs:
        obs.recording = True
        config, port = obs_config(tmp_path, obs)
        server = ServerProcess(config, port).start()
        try:
            wait_for(lambda: server.state()["obs"]["state"] == "connected", "linked")
            for command in ("start", "next", "next"):
                post(server.url, {"command": command})
            wait_for(lambda: "has no recording chapters" in server.output(), "the line")
            time.sleep(0.5)
            assert server.output().count("has no recording chapters") == 1
            assert "CreateRecordChapter" not in obs.requests and obs.chapters == []
            assert obs.program == "Lecture (practice)" and server.state()["obs"]["state"] == "connected"
        finally:
            server.stop()
