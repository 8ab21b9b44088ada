"""Generate docs/screenshots/*.png: every overlay in every theme, and the control dock.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Runs the real application in-process with a fake clock (so the pictures show a session an hour
in, with failures and a deadline), drives Debian's /usr/bin/chromium, and draws each overlay over
a stand-in for a stream scene so the plain theme is visible too. Prints each panel's size.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from playwright.async_api import Page, async_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from overlay.config import parse_config  # noqa: E402
from overlay.pages import OVERLAYS, SIZES, THEMES  # noqa: E402
from overlay.server import build_app  # noqa: E402
from overlay.storage import Storage  # noqa: E402
from tests.browser import CHROMIUM, LAUNCH_ARGS  # noqa: E402
from tests.procs import free_port  # noqa: E402

# OBS's custom CSS field does the same thing: a stylesheet added to the page.
SCENE_CSS = "html { background: #3a3f55 !important; }"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


async def build_state(url: str, clock: Clock) -> None:
    """Three past sessions, then session 4 on step 3, 1:12:40 in, 7 failures (58 in all)."""
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async def run(command: str, **fields: str) -> None:
            async with http.post(f"{url}/api/commands", json={"command": command, **fields}) as r:
                assert r.status == 200, await r.text()

        for _ in range(3):
            await run("start")
            for _ in range(17):
                clock.advance(minutes=5)
                await run("fail")
            await run("finish")
            clock.advance(days=1)
        await run("start")
        clock.advance(minutes=15)
        await run("next")
        for note in ("missed the base case", "wrong sign", "confused map and flatMap"):
            clock.advance(minutes=9)
            await run("fail", note=note)
        clock.advance(minutes=3)
        await run("next")
        for note in ("off by one", "typo", "guessed", "forgot to reset the accumulator"):
            clock.advance(minutes=6, seconds=55)
            await run("fail", note=note)


async def shoot(page: Page, url: str, path: Path, width: int, height: int) -> tuple[int, int]:
    await page.set_viewport_size({"width": width, "height": height})
    await page.goto(url)
    await page.add_style_tag(content=SCENE_CSS)
    await page.wait_for_function("() => document.documentElement.classList.contains('is-live')")
    box = await page.locator("main.so-panel").bounding_box()
    await page.screenshot(path=str(path))
    assert box is not None
    return round(box["width"]), round(box["height"])


async def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        await shoot_all(out, Path(tmp))


async def shoot_all(out: Path, folder: Path) -> None:
    routine = (ROOT / "config.yaml").read_text().split("\nstorage:")[0]
    config = parse_config(routine + "\nstorage:\n  path: shots.sqlite3\n", base_dir=folder)
    clock = Clock()
    app = build_app(config, Storage(config.storage_path, config.steps), clock=clock)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}"
    try:
        await build_state(url, clock)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            page = await browser.new_page(device_scale_factor=1)
            for name in OVERLAYS:
                width, height = SIZES[name]
                for theme in THEMES:
                    target = out / f"{name}-{theme}.png"
                    panel = await shoot(page, f"{url}/overlay/{name}?theme={theme}", target, width, height)
                    print(f"{target.relative_to(ROOT)}: source {width}x{height}, panel {panel[0]}x{panel[1]}")
            for theme in ("dark", "light"):
                await page.set_viewport_size({"width": 380, "height": 900})
                await page.goto(f"{url}/control?theme={theme}")
                await page.wait_for_function("() => document.documentElement.classList.contains('is-live')")
                target = out / f"control-{theme}.png"
                await page.screenshot(path=str(target), full_page=True)
                print(f"{target.relative_to(ROOT)}: dock")
            await browser.close()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    asyncio.run(main(parser.parse_args().out.resolve()))
