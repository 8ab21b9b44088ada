"""Real-Chromium helpers shared by the browser tests, the screenshot script and the benchmark."""

from __future__ import annotations

import contextlib
import json
import struct
import subprocess
import sys
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from .procs import ServerProcess, free_port
from .threaded import ThreadedApp

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Enough slack that the deadline's shown minute cannot roll over during a test.
DEADLINE_IN = timedelta(days=6, hours=5, minutes=30, seconds=50)
ROUTINE = """\
steps:
  - {id: review, title: Review last notes, target: 15m}
  - {id: lecture, title: Watch the lecture, target: 45m}
  - {id: project, title: One project}
"""


def launch(pw: Playwright, *args: str) -> Browser:
    return pw.chromium.launch(executable_path=CHROMIUM, args=[*LAUNCH_ARGS, *args])


def running_chromium(*args: str) -> Iterator[Browser]:
    """Debian's Chromium for a module's tests (skipped, or failed under CI, when it is missing)."""
    from .conftest import require_real

    require_real(CHROMIUM)
    with sync_playwright() as pw:
        browser = launch(pw, *args)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def new_page(browser: Browser, width: int, height: int) -> Iterator[Page]:
    """A page in a fresh context; any script error on it fails the test."""
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], errors


def write_config(folder: Path, port: int, *, deadline_in: timedelta | None = DEADLINE_IN,
                 token: str = "", routine: str = ROUTINE) -> Path:
    """A config whose deadline is `deadline_in` from now (negative: already passed)."""
    text = routine
    if deadline_in is not None:
        at = (datetime.now(UTC) + deadline_in).isoformat(timespec="seconds")
        text += f"deadline:\n  at: {at}\n  label: Course final\n"
    text += f"server:\n  host: 127.0.0.1\n  port: {port}\n  token: {json.dumps(token)}\n"
    text += "storage:\n  path: study.sqlite3\n"
    path = folder / "config.yaml"
    path.write_text(text)
    return path


def start_server(folder: Path, **config: Any) -> ServerProcess:
    port = free_port()
    return ServerProcess(write_config(folder, port, **config), port).start()


class AppServer(ThreadedApp):
    """The application served from a thread on a free loopback port: for a browser test that needs
    what a subprocess cannot give it, such as an injected clock. Use it as a context manager."""

    def __init__(self, make_app: Callable[[], web.Application]) -> None:
        self.make_app = make_app
        super().__init__()

    def build(self) -> web.Application:
        return self.make_app()


def command(server: ServerProcess | AppServer, name: str, **fields: Any) -> dict[str, Any]:
    """POST a command the way a script would; returns the new snapshot."""
    request = urllib.request.Request(
        f"{server.url}/api/commands", data=json.dumps({"command": name, **fields}).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.loads(answer.read())  # type: ignore[no-any-return]


def cli(server: ServerProcess, *args: str) -> str:
    """Run `study-overlay <args>` against the server, as a Stream Deck button would."""
    done = subprocess.run(
        [sys.executable, "-m", "overlay", "--config", str(server.config), *args],
        capture_output=True, text=True, timeout=30, cwd=server.config.parent,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def field(page: Page, name: str) -> str:
    return page.locator(f'[data-field="{name}"]').first.inner_text()


def wait_field(page: Page, name: str, text: str, timeout: float = 10_000) -> None:
    """Wait until the first element with data-field=`name` shows exactly `text`."""
    page.wait_for_function(
        "([name, text]) => document.querySelector(`[data-field='${name}']`)?.textContent === text",
        arg=[name, text], timeout=timeout, polling=20,
    )


def wait_live(page: Page, timeout: float = 10_000) -> None:
    page.wait_for_function("() => document.documentElement.classList.contains('is-live')", timeout=timeout)


def fields(page: Page) -> dict[str, str]:
    """Every data-field's text (the first element of each name)."""
    found: dict[str, str] = page.evaluate(
        """() => { const out = {};
          for (const el of document.querySelectorAll('[data-field]'))
            if (!(el.dataset.field in out)) out[el.dataset.field] = el.textContent;
          return out; }"""
    )
    return found


# --- a PNG decoder (8-bit RGB/RGBA, not interlaced): enough for Chromium's screenshots --------


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGBA bytes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    width = height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
            channels = 4 if color == 6 else 3
        elif kind == b"IDAT":
            idat += body
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = bytearray(raw[start + 1:start + 1 + stride])
        _unfilter(raw[start], line, prev, channels)
        rows.append(bytes(line) if channels == 4 else _rgba(line))
        prev = line
    return width, height, rows


def _unfilter(kind: int, line: bytearray, prev: bytearray, bpp: int) -> None:
    if kind == 0:
        return
    if kind == 2:
        line[:] = bytes((a + b) & 0xFF for a, b in zip(line, prev, strict=True))
        return
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = prev[i]
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            corner = prev[i - bpp] if i >= bpp else 0
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        else:
            raise ValueError(f"bad PNG filter {kind}")


def _rgba(line: bytearray) -> bytes:
    out = bytearray()
    for i in range(0, len(line), 3):
        out += line[i:i + 3] + b"\xff"
    return bytes(out)


def alpha(rows: list[bytes], x: int, y: int) -> int:
    return rows[y][x * 4 + 3]
