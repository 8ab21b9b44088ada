"""Global hotkeys through a real server process: keys typed into a real X server move the session."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import require_real
from .procs import ROOT, ServerProcess, free_port, wait_for, write_config
from .xvfb import Xvfb


@pytest.fixture
def x_and_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Xvfb, ServerProcess]]:
    require_real("Xvfb", "xdotool")
    with Xvfb() as xserver:
        monkeypatch.setenv("DISPLAY", xserver.display)
        port = free_port()
        server = ServerProcess(write_config(tmp_path, port), port).start()
        try:
            wait_for(lambda: server.state()["hotkeys"]["state"] == "active", "hotkeys active")
            yield xserver, server
        finally:
            server.stop()


@pytest.mark.xvfb
def test_default_hotkeys_drive_the_session_through_dispatch(x_and_server: tuple[Xvfb, ServerProcess]) -> None:
    xserver, server = x_and_server
    xserver.xdotool("key", "ctrl+alt+shift+p")  # refused: no session yet; said in the log, not lost
    wait_for(lambda: "hotkey prev refused: no session is running" in server.output(), "refusal logged")
    xserver.xdotool("key", "ctrl+alt+shift+s")
    wait_for(lambda: server.state()["phase"] == "running", "start by hotkey")
    xserver.xdotool("key", "ctrl+alt+shift+n")
    wait_for(lambda: server.state()["step"]["id"] == "lecture", "next by hotkey")
    xserver.xdotool("key", "ctrl+alt+shift+f")
    wait_for(lambda: server.state()["failures"]["session"] == 1, "fail by hotkey")
    xserver.xdotool("key", "ctrl+alt+shift+space")
    wait_for(lambda: server.state()["phase"] == "paused", "pause by hotkey")
    xserver.xdotool("key", "ctrl+alt+shift+x")
    snap = wait_for(lambda: (s := server.state())["hotkeys"]["confirm"] == "reset" and s, "confirm prompt")
    assert snap["phase"] == "paused"  # one press of reset changes nothing yet
    time.sleep(0.5)  # past the 400 ms cooldown, inside the 2 s confirmation window
    xserver.xdotool("key", "ctrl+alt+shift+x")
    wait_for(lambda: server.state()["phase"] == "idle", "reset confirmed")
    assert "via hotkey" in server.output()


@pytest.mark.xvfb
def test_the_x_server_dying_leaves_the_service_running_and_reported(
    x_and_server: tuple[Xvfb, ServerProcess],
) -> None:
    xserver, server = x_and_server
    xserver.stop()
    snap = wait_for(lambda: (s := server.state())["hotkeys"]["state"] == "error" and s, "hotkeys error")
    assert "X server" in snap["hotkeys"]["reason"]
    assert subprocess.run(
        [sys.executable, "-m", "overlay", "--config", str(server.config), "start"],
        capture_output=True, timeout=30,
    ).returncode == 0
    assert server.state()["phase"] == "running"


def test_without_a_display_the_service_runs_and_reports_hotkeys_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    port = free_port()
    server = ServerProcess(write_config(tmp_path, port), port).start()
    try:
        hotkeys = server.state()["hotkeys"]
    finally:
        server.stop()
    assert hotkeys["state"] == "off"
    assert "DISPLAY" in hotkeys["reason"]
    assert server.output().count("global hotkeys off") == 1


def test_client_commands_do_not_load_the_server_stack() -> None:
    code = (
        "import sys, overlay.doors.cli.main, overlay.doors.cli.client; "
        "bad = [m for m in ('aiohttp', 'jinja2', 'obsws_python', 'pynput') if m in sys.modules]; "
        "print(bad)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ}, timeout=30)
    assert done.stdout.strip() == "[]", done.stderr
