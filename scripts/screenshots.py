"""Generate docs/screenshots/*.png: every overlay in every theme, the control dock and /history.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Runs the real application in-process with a fake clock (so the pictures show eight weeks of
history and a session an hour in, with failures, a deadline and a goal), drives Debian's
/usr/bin/chromium, and draws each overlay over a stand-in for a stream scene so the plain theme is
visible too. Prints each panel's size.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from playwright.async_api import Page, async_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from overlay.app import build_app  # noqa: E402
from overlay.config import parse_config  # noqa: E402
from overlay.pages.overlays import OVERLAYS, SIZES, THEMES  # noqa: E402
from overlay.storage.store import Storage  # noqa: E402
from tests.browser import CHROMIUM, LAUNCH_ARGS  # noqa: E402
from tests.procs import free_port  # noqa: E402

# OBS's custom CSS field does the same thing: a stylesheet added to the page.
SCENE_CSS = "html { background: #3a3f55 !important; }"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 9, 30, 18, 0, tzinfo=UTC)  # eight weeks before "today", 24 Nov

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


NOTES = ["sign error", "forgot the chain rule", "off by one", "confused map and flatMap", "typo",
         "missed the base case", "guessed instead of checking", "misread the question", ""]


class Api:
    """Commands through the HTTP API, as any script would send them."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http, self.url = http, url

    async def run(self, command: str, **fields: str) -> None:
        async with self.http.post(f"{self.url}/api/commands", json={"command": command, **fields}) as r:
            assert r.status == 200, await r.text()


async def build_history(api: Api, clock: Clock) -> None:
    """Eight weeks of evening sessions (most days, a varying number of failures, a lesson now and
    then), ending with a streak up to today's session, which is on its review step."""
    rng = random.Random(7)  # the same pictures every run
    run = api.run
    for day in range(55):
        if day < 49 and rng.random() < 0.3:
            clock.advance(days=1)
            continue
        evening = clock.now
        await run("start")
        for _step in range(6):
            for _ in range(rng.choice([0, 0, 1, 1, 1, 2, 3])):
                clock.advance(minutes=rng.randint(3, 12))
                await run("fail", note=rng.choice(NOTES))
            clock.advance(minutes=rng.randint(10, 50))
            await run("next")  # from the last step: finish
        if day % 9 == 4:
            await run("unit-done")
        clock.now = evening + timedelta(days=1)
    await run("start")
    clock.advance(minutes=4)


async def continue_today(api: Api, clock: Clock) -> None:
    """Today's session on step 3, 1:12:40 in, with 7 failures."""
    run = api.run
    clock.advance(minutes=11)
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


async def shoot_page(page: Page, url: str, path: Path, width: int) -> None:
    """A whole page (the dock, /history) at a dock-like or browser width."""
    await page.set_viewport_size({"width": width, "height": 900})
    await page.goto(url)
    await page.screenshot(path=str(path), full_page=True)
    print(f"{path.relative_to(ROOT)}: {width} wide")


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
        async with aiohttp.ClientSession() as http, async_playwright() as pw:
            api = Api(http, url)
            await build_history(api, clock)
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            page = await browser.new_page(device_scale_factor=1)
            # The review step: the step overlay lists the previous session's notes.
            width, height = SIZES["step"]
            for theme in ("dark", "light"):
                target = out / f"step-review-{theme}.png"
                panel = await shoot(page, f"{url}/overlay/step?theme={theme}", target, width, height)
                print(f"{target.relative_to(ROOT)}: source {width}x{height}, panel {panel[0]}x{panel[1]}")
            await continue_today(api, clock)
            for name in OVERLAYS:
                width, height = SIZES[name]
                for theme in THEMES:
                    target = out / f"{name}-{theme}.png"
                    panel = await shoot(page, f"{url}/overlay/{name}?theme={theme}", target, width, height)
                    print(f"{target.relative_to(ROOT)}: source {width}x{height}, panel {panel[0]}x{panel[1]}")
            for theme in ("dark", "light"):
                await shoot_page(page, f"{url}/control?theme={theme}", out / f"control-{theme}.png", 380)
                await shoot_page(page, f"{url}/history?theme={theme}", out / f"history-{theme}.png", 820)
            await shoot_page(page, f"{url}/history", out / "history-dock.png", 360)
            last = (await (await page.request.get(f"{url}/api/history")).json())["sessions"][1]["number"]
            await shoot_page(page, f"{url}/history/{last}", out / "history-session-dark.png", 560)
            await browser.close()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    asyncio.run(main(parser.parse_args().out.resolve()))
