"""A real OBS Studio under Xvfb, for tests and the benchmark (see issue 4 for the facts used)."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.xvfb import Xvfb

# OBS reads these as its own version number; anything >= the installed one skips the
# "what's new" dialog and the first-run wizard.
_LAST_VERSION = 486539266
# obs-websocket only pays attention to these keys; a bad value silently keeps it off.
_PROFILE = "StudyOverlayTest"
_COLLECTION = "StudyOverlayTest"

REQUIRE_REAL = os.environ.get("STUDY_OVERLAY_REQUIRE_REAL") == "1"


def missing_tools() -> list[str]:
    return [tool for tool in ("obs", "Xvfb", "xdotool") if shutil.which(tool) is None]


def require_obs() -> None:
    """Skip the calling test when OBS or Xvfb is missing, or fail if real parts are required."""
    missing = missing_tools()
    if not missing:
        return
    message = f"needs a real OBS under Xvfb; missing: {', '.join(missing)}"
    if REQUIRE_REAL:
        pytest.fail(message + " (STUDY_OVERLAY_REQUIRE_REAL=1)")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll a synchronous predicate; the failure message says what never happened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def _terminate(proc: subprocess.Popen[bytes], grace: float) -> None:
    # Exactly this PID: never a process group or a name, other OBS instances may be ours too.
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGCONT)  # a frozen process would ignore SIGTERM until thawed
        proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait()


def _scene_source(name: str, hotkey: str | None) -> dict[str, Any]:
    binding = [{"key": hotkey}] if hotkey else []
    return {
        "id": "scene", "versioned_id": "scene", "name": name, "enabled": True,
        "settings": {"items": [], "id_counter": 0, "custom_size": False},
        "mixers": 0, "volume": 1.0, "muted": False, "flags": 0, "sync": 0,
        "hotkeys": {"OBSBasic.SelectScene": binding},
        "private_settings": {},
    }


class Obs:
    """OBS Studio with obs-websocket on a chosen port, config in a fresh temporary HOME."""

    def __init__(self, display: str, root: Path, *, port: int, password: str,
                 scenes: Sequence[str], hotkeys: dict[str, str] | None = None,
                 fps: int = 10) -> None:
        self.display, self.root, self.port, self.password = display, root, port, password
        self.scenes = list(scenes)
        self.proc: subprocess.Popen[bytes] | None = None
        self._write_config(hotkeys or {}, fps)

    def _write_config(self, hotkeys: dict[str, str], fps: int) -> None:
        base = self.root / "obs-studio"
        (base / "basic" / "scenes").mkdir(parents=True, exist_ok=True)
        profile = base / "basic" / "profiles" / _PROFILE
        profile.mkdir(parents=True, exist_ok=True)
        auth = "true" if self.password else "false"
        (base / "global.ini").write_text(
            f"[General]\nFirstRun=true\nLastVersion={_LAST_VERSION}\n"
            "[BasicWindow]\nPreviewEnabled=false\n"
            "[OBSWebSocket]\nFirstLoad=false\nServerEnabled=true\n"
            f"ServerPort={self.port}\nAlertsEnabled=false\n"
            f"AuthRequired={auth}\nServerPassword={self.password}\n"
        )
        (profile / "basic.ini").write_text(
            f"[General]\nName={_PROFILE}\n"
            "[Video]\nBaseCX=640\nBaseCY=360\nOutputCX=640\nOutputCY=360\n"
            f"FPSType=1\nFPSInt={fps}\n"
        )
        collection = {
            "name": _COLLECTION,
            "current_scene": self.scenes[0],
            "current_program_scene": self.scenes[0],
            "scene_order": [{"name": name} for name in self.scenes],
            "sources": [_scene_source(name, hotkeys.get(name)) for name in self.scenes],
            "groups": [], "quick_transitions": [], "transitions": [],
            "current_transition": "Fade", "transition_duration": 300,
        }
        (base / "basic" / "scenes" / f"{_COLLECTION}.json").write_text(json.dumps(collection))

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, *, wait: bool = True) -> None:
        assert self.proc is None or self.proc.poll() is not None, "OBS already running"
        env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "SESSION_MANAGER")}
        env.update(HOME=str(self.root), XDG_CONFIG_HOME=str(self.root), DISPLAY=self.display,
                   QT_QPA_PLATFORM="xcb", LIBGL_ALWAYS_SOFTWARE="1")
        log = open(self.root / "obs-output.log", "ab")  # noqa: SIM115 - owned by the child
        with log:
            self.proc = subprocess.Popen(
                ["obs", "--multi", "--disable-missing-files-check",
                 "--profile", _PROFILE, "--collection", _COLLECTION, "--scene", self.scenes[0],
                 "--websocket_port", str(self.port)],
                env=env, cwd=self.root, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            )
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 30.0) -> None:
        wait_until(self.answers, timeout, f"OBS to answer on port {self.port}", interval=0.1)

    def answers(self) -> bool:
        if self.proc is None or self.proc.poll() is not None:
            raise AssertionError(f"OBS exited; see {self.root / 'obs-output.log'}")
        try:
            self.request("GetVersion")
        except Exception:
            return False
        return True

    def request(self, request_type: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """One request on a fresh connection: the test's own view of OBS, independent of ObsLink."""
        with client(self.port, self.password) as cl:
            response = cl.send(request_type, data, raw=True)
        return response or {}

    def program_scene(self) -> str:
        return str(self.request("GetCurrentProgramScene")["currentProgramSceneName"])

    def switch_and_settle(self, scene: str) -> None:
        """Put OBS on scene as a foreign client and wait until its event has gone out.

        OBS reports a program scene change when the transition ends, so without this a
        transition started before a test could report into it.
        """
        with scene_events(self.port, self.password) as seen:
            if self.program_scene() == scene:
                # Only a new switch proves no old transition is still to report.
                parking = next(name for name in self.scenes if name != scene)
                self.request("SetCurrentProgramScene", {"sceneName": parking})
                wait_for_scene_event(seen, parking)
            self.request("SetCurrentProgramScene", {"sceneName": scene})
            wait_for_scene_event(seen, scene)

    def quit(self, timeout: float = 10.0) -> bool:
        """Quit the way closing the window does (SIGINT); False if OBS hung and was killed.

        OBS 29.0.2 under Xvfb deadlocks in about one shutdown in five on a loaded machine.
        """
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return False
        return True

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def freeze(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def close(self) -> None:
        if self.proc is not None:
            _terminate(self.proc, 10)


@contextlib.contextmanager
def client(port: int, password: str, timeout: float = 5.0) -> Iterator[Any]:
    """A short-lived obsws ReqClient that always closes its socket, even when connecting fails."""
    import obsws_python

    from overlay.doors.obs.link import close_client, connect

    cl = connect(obsws_python.ReqClient, host="127.0.0.1", port=port, password=password,
                 timeout=timeout)
    try:
        yield cl
    finally:
        close_client(cl)


@contextlib.contextmanager
def scene_events(port: int, password: str) -> Iterator[queue.Queue[str]]:
    """Every CurrentProgramSceneChanged OBS reports, seen by an independent client."""
    import obsws_python

    from overlay.doors.obs.link import close_client, connect

    seen: queue.Queue[str] = queue.Queue()

    class Sink:
        def on_current_program_scene_changed(self, data: Any) -> None:
            seen.put(data.scene_name)

    events = connect(obsws_python.EventClient, host="127.0.0.1", port=port, password=password,
                     timeout=5.0, subs=obsws_python.Subs.SCENES)
    try:
        events.callback.register(Sink().on_current_program_scene_changed)
        yield seen
    finally:
        close_client(events)


def wait_for_scene_event(seen: queue.Queue[str], scene: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if seen.get(timeout=max(0.0, deadline - time.monotonic())) == scene:
                return
        except queue.Empty:
            raise AssertionError(f"OBS never reported program scene {scene!r}") from None


@contextlib.contextmanager
def running_obs(scenes: Sequence[str], *, password: str = "test-secret",
                hotkeys: dict[str, str] | None = None, fps: int = 10,
                start: bool = True) -> Iterator[tuple[Xvfb, Obs]]:
    """Xvfb plus one OBS in a temporary HOME; both are stopped by their own PIDs on exit."""
    with tempfile.TemporaryDirectory(prefix="study-overlay-obs-") as tmp, Xvfb() as xvfb:
        obs = Obs(xvfb.display, Path(tmp), port=free_port(), password=password,
                  scenes=scenes, hotkeys=hotkeys, fps=fps)
        try:
            if start:
                obs.start()
            yield xvfb, obs
        finally:
            obs.close()
