"""A private Xvfb for tests, with xdotool to type into it."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import tempfile
import time
from types import TracebackType


class Xvfb:
    """An X server on a display number it picks itself; stopped by exactly the PID we started."""

    def __init__(self, *args: str) -> None:
        self.args = args
        self.display = ""
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 15.0) -> Xvfb:
        read_fd, write_fd = os.pipe()
        log = tempfile.TemporaryFile()
        try:
            # -noreset: by default Xvfb resets when its last client leaves, and a client that
            # connects meanwhile (the next xdotool, pynput's second connection) is dropped.
            self.proc = subprocess.Popen(
                ["Xvfb", "-displayfd", str(write_fd), "-nolisten", "tcp", "-noreset",
                 "-screen", "0", "640x480x24", *self.args],
                pass_fds=[write_fd], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            )  # fmt: skip
            os.close(write_fd)
            write_fd = -1
            # Xvfb writes the display number once it accepts connections.
            number = b""
            deadline = time.monotonic() + timeout
            while not number.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([read_fd], [], [], left)[0]:
                    raise TimeoutError(f"Xvfb gave no display within {timeout:g} s")
                chunk = os.read(read_fd, 16)
                if not chunk:
                    log.seek(0)
                    raise RuntimeError(f"Xvfb exited: {log.read().decode(errors='replace')}")
                number += chunk
            self.display = f":{number.decode().strip()}"
            return self
        except BaseException:
            self.stop()
            raise
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)
            log.close()

    def freeze(self) -> None:
        """Stops the server process, so clients connect but get no answer."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGCONT)  # a frozen server must run to act on SIGTERM
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def xdotool(self, *args: str) -> None:
        """Runs xdotool against this display, e.g. xdotool("key", "ctrl+alt+n")."""
        subprocess.run(
            ["xdotool", *args], env={**os.environ, "DISPLAY": self.display}, check=True, timeout=30
        )

    def __enter__(self) -> Xvfb:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
