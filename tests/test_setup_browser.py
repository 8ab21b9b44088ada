"""/setup end to end: Chromium on the page, a real OBS under Xvfb, a real `serve` and config.yaml.

A fresh config, the connection tested with a wrong then the right password, saved, the scenes
planned then created in OBS, a hotkey checked without running it, and the routine edited while
a session runs: live on /overlay/step without a reload, config.yaml still valid, comments kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from overlay.config import load_config

from .browser import command, new_page, wait_field, wait_live
from .obs_harness import Obs, client, require_obs, running_obs
from .procs import ServerProcess, free_port, wait_for, write_config
from .xvfb import Xvfb

PASSWORD = "right-pass-7f3a"
SHIPPED_SCENES = ["Review", "Lecture", "Lecture (practice)", "Reading", "Questionnaire", "Project", "Break",
                  "Finished"]


def comments(text: str) -> list[str]:
    return [m.group(0).strip() for m in re.finditer(r"#.*", text)]


@pytest.fixture(scope="module")
def obs_and_x() -> Iterator[tuple[Xvfb, Obs]]:
    require_obs()
    with running_obs(["Intro"], password=PASSWORD) as both:
        yield both


@pytest.fixture
def server(tmp_path: Path, obs_and_x: tuple[Xvfb, Obs], monkeypatch: pytest.MonkeyPatch,
           ) -> Iterator[ServerProcess]:
    monkeypatch.setenv("DISPLAY", obs_and_x[0].display)  # global hotkeys listen on OBS's X server
    port = free_port()
    proc = ServerProcess(write_config(tmp_path, port), port).start()  # the shipped config: OBS off
    try:
        wait_for(lambda: proc.state()["hotkeys"]["state"] == "active", "hotkeys listening")
        yield proc
    finally:
        proc.stop()


def result(page: Page, element: str, pattern: str, timeout: float = 15_000) -> str:
    """Wait for a status line to match; return its text."""
    locator = page.locator(f"#{element}")
    locator.filter(has_text=re.compile(pattern)).wait_for(timeout=timeout)
    return locator.inner_text()


@pytest.mark.obs
@pytest.mark.chromium
def test_from_a_fresh_config_to_a_working_stream(browser: Browser, server: ServerProcess,
                                                 obs_and_x: tuple[Xvfb, Obs]) -> None:
    xvfb, obs = obs_and_x
    original = server.config.read_text(encoding="utf-8")
    with new_page(browser, 1200, 900) as page:
        page.goto(f"{server.url}/setup")
        wait_live(page)
        form = page.locator("#so-obs-form")
        form.locator("[name=port]").fill(str(obs.port))
        form.locator("[name=password]").fill("not-the-password")
        page.click("#so-obs-test")
        said = result(page, "so-obs-result", "wrong password")
        assert "Show Connect Info" in said
        form.locator("[name=password]").fill(PASSWORD)
        page.click("#so-obs-test")
        assert "OBS 29" in result(page, "so-obs-result", "Connected")
        form.locator("[name=enabled]").check()
        page.click("#so-obs-save")
        result(page, "so-obs-result", "Saved")
        wait_for(lambda: server.state()["obs"]["state"] == "connected", "the service linked to OBS")
        page.reload()  # the page as it comes now: the password is saved, and not sent back
        wait_live(page)
        assert PASSWORD not in page.content()
        password = page.locator("#so-obs-form [name=password]")
        assert password.get_attribute("placeholder") == "saved; type to change"

        # 2. The plan first, then the scenes made in the real OBS.
        page.click("#so-scenes-plan")
        plan = result(page, "so-scenes-out", "create scene 'Review'")
        assert "created" not in plan
        with client(obs.port, PASSWORD) as obs_client:
            listed = obs_client.send("GetSceneList", raw=True)["scenes"]
        assert "Review" not in {s["sceneName"] for s in listed}
        page.click("#so-scenes-create")
        result(page, "so-scenes-out", "created scene 'Review'")
        with client(obs.port, PASSWORD) as obs_client:
            made = {s["sceneName"] for s in obs_client.send("GetSceneList", raw=True)["scenes"]}
        assert set(SHIPPED_SCENES) <= made

        # 5. A hotkey pressed while checking is heard, and runs nothing.
        page.click("#so-hotkeys-check")
        result(page, "so-hotkeys-result", "Listening")
        xvfb.xdotool("key", "ctrl+alt+shift+s")
        page.locator('tr[data-combo="<ctrl>+<alt>+<shift>+s"] .heard').filter(has_text="heard").wait_for()
        assert server.state()["phase"] == "idle"

        # 4. The routine edited while a session runs on its second step.
        command(server, "start")
        command(server, "next")
        with new_page(browser, 760, 280) as overlay:
            overlay.goto(f"{server.url}/overlay/step")
            wait_live(overlay)
            wait_field(overlay, "step.title", "Watch the lecture, first pass")
            row = page.locator("#so-steps tr").nth(1)
            row.locator("[name=title]").fill("Lecture, edited live")
            page.click("#so-step-add")
            last = page.locator("#so-steps tr").last
            last.locator("[name=title]").fill("Wrap-up")
            last.locator("[name=target]").fill("10m")
            page.click("#so-routine-save")
            result(page, "so-routine-result", "Saved")
            wait_field(overlay, "step.title", "Lecture, edited live")  # no reload of the overlay
            wait_field(overlay, "step.count", "7")
        state = server.state()
        assert (state["step"]["id"], state["step"]["number"], state["phase"]) == ("lecture", 2, "running")

        # A bad target is refused with its key; the file is left as it was.
        saved = server.config.read_text(encoding="utf-8")
        page.locator("#so-steps tr").first.locator("[name=target]").fill("soon")
        page.click("#so-routine-save")
        assert "steps[0].target" in result(page, "so-routine-result", "Not saved")
        assert server.config.read_text(encoding="utf-8") == saved

    config = load_config(server.config)
    assert [s.title for s in config.steps][1] == "Lecture, edited live"
    assert config.steps[-1].title == "Wrap-up" and config.obs.enabled and config.obs.port == obs.port
    assert comments(saved) == comments(original)
    assert PASSWORD not in server.output()
