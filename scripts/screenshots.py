"""Generate docs/screenshots/*.png: every overlay in every theme, the control dock and /history.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Runs the real application in-process with a fake clock (so the pictures show eight weeks of
history and a session an hour in, with failures, a deadline and a goal), drives Debian's
/usr/bin/chromium, and draws each overlay over a stand-in for a stream scene so the plain theme is
visible too. Prints each panel's size. frame-1080p.png puts all five in one 1920x1080 frame, as
browser sources over a busy scene drawn in the page itself (nothing from the internet).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sys
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from playwright.async_api import Page, async_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from overlay.app import build_app  # noqa: E402
from overlay.config import parse_config  # noqa: E402
from overlay.i18n import LANGUAGES  # noqa: E402
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


# A stand-in for a busy stream scene, drawn by CSS alone: a whiteboard, a dark code editor and a
# photo-like sunset with a slide title; the overlays sit on it as OBS browser sources would.
SCENE = """<!doctype html><html><head><style>
html, body { margin: 0; width: 1920px; height: 1080px; overflow: hidden; }
body { font-family: "DejaVu Sans", sans-serif; }
.board, .code, .photo { position: absolute; top: 0; bottom: 0; overflow: hidden; }
.board { left: 0; width: 780px; background: linear-gradient(160deg, #fbfbf8, #eeeeea); }
.board p { position: absolute; margin: 0; font: italic 600 34px "DejaVu Serif", serif; }
.board .box { position: absolute; border: 4px solid #1f5fbf; border-radius: 18px; }
.code { left: 780px; width: 560px; background: #1e1f26; padding: 330px 0 0 24px; box-sizing: border-box;
  font: 19px/1.55 "DejaVu Sans Mono", monospace; color: #d4d4d4; white-space: pre; }
.code i { font-style: normal; color: #c586c0; } .code b { font-weight: normal; color: #4fc1ff; }
.code u { text-decoration: none; color: #ce9178; } .code s { text-decoration: none; color: #6a9955; }
.photo { left: 1340px; right: 0; background:
  radial-gradient(circle at 40% 62%, #fff6c8 0 40px, #ffd36e 60px, transparent 190px),
  linear-gradient(180deg, #2b2f77 0%, #8a3f8f 38%, #f06f4c 62%, #ffc26a 72%, #3b4a3a 73%, #1d2a22 100%); }
.photo .hill { position: absolute; left: -40px; right: -40px; bottom: 0; height: 42%;
  background: linear-gradient(180deg, #24402f, #0f1d15);
  clip-path: polygon(0 40%, 22% 18%, 40% 36%, 63% 6%, 84% 30%, 100% 14%, 100% 100%, 0 100%); }
.photo h1 { position: absolute; left: 40px; top: 640px; margin: 0; color: #fff; font-size: 46px; }
.photo h2 { position: absolute; left: 40px; top: 700px; margin: 0; color: #ffe7b8; font-size: 26px;
  font-weight: normal; }
iframe { position: absolute; border: 0; background: transparent; }
</style></head><body>
<div class="board">
  <p style="left: 60px; top: 330px; color: #1b1b1b">closure = function + the</p>
  <p style="left: 60px; top: 380px; color: #1b1b1b">variables it can see</p>
  <div class="box" style="left: 40px; top: 470px; width: 640px; height: 200px"></div>
  <p style="left: 70px; top: 500px; color: #1f5fbf">for i in range(3):</p>
  <p style="left: 110px; top: 550px; color: #1f5fbf">fs.append(lambda: i)</p>
  <p style="left: 70px; top: 610px; color: #c62828">&#8594; 2, 2, 2 &#x2717;  i=i &#8594; 0, 1, 2 &#x2713;</p>
  <p style="left: 60px; top: 720px; color: #2e7d32; font-size: 28px">late binding: looked up when called</p>
</div>
<div class="code"><s># chapter 4: closures</s>
<i>def</i> <b>make_counters</b>(n):
    counters = []
    <i>for</i> i <i>in</i> <b>range</b>(n):
        <i>def</i> <b>count</b>(start=i):
            <i>return</i> start + <b>1</b>
        counters.append(count)
    <i>return</i> counters

<i>print</i>([c() <i>for</i> c <i>in</i> make_counters(<b>3</b>)])
<s># [1, 2, 3]</s>
<i>assert</i> <b>len</b>(make_counters(<b>0</b>)) == <b>0</b>, <u>"empty"</u></div>
<div class="photo"><div class="hill"></div><h1>Chapter 4</h1><h2>Closures and late binding</h2></div>
{sources}
</body></html>"""
# Where a streamer might put each source (x, y, theme, align): the step over the whiteboard, a
# column on the right, the bar along the bottom across all three parts of the scene.
PLACES = {"step": (24, 24, "plain", "left"), "timer": (1920 - 24 - 456, 24, "dark", "right"),
          "deadline": (1920 - 24 - 456, 196, "light", "right"),
          "failures": (1920 - 24 - 496, 374, "plain", "right"), "bar": (0, 1080 - 132, "dark", "left")}


async def shoot_frame(page: Page, url: str, path: Path) -> None:
    sources = []
    for name, (x, y, theme, align) in PLACES.items():
        width, height = SIZES[name]
        sources.append(f'<iframe src="{url}/overlay/{name}?theme={theme}&amp;align={align}" '
                       f'style="left: {x}px; top: {y}px; width: {width}px; height: {height}px"></iframe>')
    await page.set_viewport_size({"width": 1920, "height": 1080})
    await page.set_content(SCENE.replace("{sources}", "\n".join(sources)))
    for frame in page.frames[1:]:
        await frame.wait_for_function("() => document.documentElement.classList.contains('is-live')")
    await page.screenshot(path=str(path))
    print(f"{path.relative_to(ROOT)}: 1920x1080, every overlay over a busy scene")


async def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        await shoot_all(out, Path(tmp))
    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        await shoot_break(out, Path(tmp))


async def shoot_break(out: Path, folder: Path) -> None:
    """The timer and the bar in a break of a 50/10 focus cycle: the badge counts the break down."""
    focus = "\nfocus: {work: 50m, break: 10m, long_break: 30m, long_every: 4}\n"
    async with serving(folder, focus) as (url, clock):
        async with aiohttp.ClientSession() as http, async_playwright() as pw:
            api = Api(http, url)
            await api.run("start")
            await api.run("goto", step="6")
            clock.advance(minutes=53, seconds=48)  # the focus ended at 50:00: 6:12 of the break left
            await api.run("fail", note="forgot to reset the accumulator")
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            page = await browser.new_page(device_scale_factor=1)
            for name in ("timer", "bar"):
                width, height = SIZES[name]
                target = out / f"{name}-break.png"
                panel = await shoot(page, f"{url}/overlay/{name}", target, width, height)
                print(f"{target.relative_to(ROOT)}: source {width}x{height}, panel {panel[0]}x{panel[1]}")
            await browser.close()


@contextlib.asynccontextmanager
async def serving(folder: Path, extra: str = "") -> AsyncIterator[tuple[str, Clock]]:
    """The shipped routine (plus `extra` config) served in-process on a free port, on a fake clock."""
    routine = (ROOT / "config.yaml").read_text().split("\nstorage:")[0]
    config = parse_config(routine + extra + "\nstorage:\n  path: shots.sqlite3\n", base_dir=folder)
    clock = Clock()
    runner = web.AppRunner(build_app(config, Storage(config.storage_path, config.steps), clock=clock),
                           access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", clock
    finally:
        await runner.cleanup()


async def shoot_page(page: Page, url: str, path: Path, width: int) -> None:
    """A whole page (the dock, /history) at a dock-like or browser width."""
    await page.set_viewport_size({"width": width, "height": 900})
    await page.goto(url)
    await page.screenshot(path=str(path), full_page=True)
    print(f"{path.relative_to(ROOT)}: {width} wide")


async def shoot_all(out: Path, folder: Path) -> None:
    async with serving(folder) as (url, clock):
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
            for code in LANGUAGES:  # a row per language: the same state in each (en is the dark row)
                if code == "en":
                    continue
                for name in ("timer", "step", "failures", "deadline"):
                    width, height = SIZES[name]
                    target = out / f"{name}-dark-{code}.png"
                    panel = await shoot(page, f"{url}/overlay/{name}?lang={code}", target, width, height)
                    print(f"{target.relative_to(ROOT)}: source {width}x{height}, panel {panel[0]}x{panel[1]}")
            await shoot_frame(page, url, out / "frame-1080p.png")
            for theme in ("dark", "light"):
                await shoot_page(page, f"{url}/control?theme={theme}", out / f"control-{theme}.png", 380)
                await shoot_page(page, f"{url}/history?theme={theme}", out / f"history-{theme}.png", 820)
            await shoot_page(page, f"{url}/history", out / "history-dock.png", 360)
            last = (await (await page.request.get(f"{url}/api/history")).json())["sessions"][1]["number"]
            await shoot_page(page, f"{url}/history/{last}", out / "history-session-dark.png", 560)
            await browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    asyncio.run(main(parser.parse_args().out.resolve()))
