"""Run a real `study-overlay serve` process for tests and benchmarks."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(folder: Path, port: int, extra: str = "") -> Path:
    text = (ROOT / "config.yaml").read_text().replace("port: 8754", f"port: {port}")
    path = folder / "config.yaml"
    path.write_text(text + extra)
    return path


def write_obs_config(folder: Path, port: int, obs_port: int, password: str, extra: str = "") -> Path:
    """The shipped config with OBS on, at an OBS (real or a stand-in) on loopback."""
    path = write_config(folder, port, extra)
    text = path.read_text()
    for old, new in (("  enabled: false ", "  enabled: true "), ("port: 4455", f"port: {obs_port}"),
                     ('password: ""', f'password: "{password}"')):
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text)
    return path


class ServerProcess:
    """A real server on loopback; stopped (or killed) by exactly the PID we started."""

    def __init__(self, config: Path, port: int, *args: str) -> None:
        self.config, self.port, self.args = config, port, args
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[str] | None = None
        self.log = config.parent / f"server-{port}.log"

    def start(self, timeout: float = 15.0) -> ServerProcess:
        # A file, not a pipe: a pipe nobody reads blocks the server once it fills.
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "overlay", "--config", str(self.config), "serve", *self.args],
                cwd=self.config.parent, stdout=out, stderr=subprocess.STDOUT, text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1):
                    return self
            except OSError:
                time.sleep(0.02)
        raise TimeoutError("server did not answer /healthz")

    def state(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/api/state", timeout=5) as r:
            return json.loads(r.read())  # type: ignore[no-any-return]

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> str:
        if self.proc is None:
            return ""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.output()

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""


def serve_once(config: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`serve` expected to refuse and exit: its status and what it printed."""
    return subprocess.run(
        [sys.executable, "-m", "overlay", "--config", str(config), "serve", *args],
        capture_output=True, text=True, timeout=30, cwd=cwd or config.parent,
    )


def post(url: str, body: dict[str, Any], timeout: float = 5.0) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{url}/api/commands", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def wait_for(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Poll until check() returns something truthy (and return it); errors count as not yet."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (OSError, KeyError) as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")
