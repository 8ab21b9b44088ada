"""/history and /history/{n}, the review notes and the pacing, on a known history in a real SQLite file:
through aiohttp's test client, then in a real Chromium."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from playwright.sync_api import Browser, Page

from overlay.app import build_app
from overlay.config import Config, parse_config
from overlay.core import session as core
from overlay.runtime.dispatcher import Dispatcher
from overlay.storage import history
from overlay.storage.store import Storage

from .browser import (
    AppServer,
    command,
    field,
    fields,
    new_page,
    wait_field,
    wait_live,
)
from .conftest import ROUTINE, FakeClock

Client = TestClient[web.Request, web.Application]
NY = ZoneInfo("America/New_York")
CONFIG = ROUTINE.replace("scene: Review}", "scene: Review, reviews_previous: true}") + (
    "timezone: America/New_York\ngoal: {units: 8, unit: lesson}\n")


def ny(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=NY).astimezone(UTC)


NOW = ny(11, 22, 21)  # Sunday 22 November, 21:00 in New York: session 5 is on its review step
# Failures per New York day inside the 8 weeks shown (28 Sep to 22 Nov); 2 more on 23 Sep are not.
DAYS = {"2026-10-23": 1, "2026-11-20": 3, "2026-11-21": 2}


async def build_known_history(config: Config) -> None:
    """Five sessions: 60 and 30 days ago, then three days in a row up to today; 8 failures, 2 lessons."""
    clock = FakeClock(ny(9, 23, 19))
    d = Dispatcher(config, Storage(config.storage_path, config.steps), clock)

    async def at(when: datetime, *commands: core.Command) -> None:
        clock.now = when
        for c in commands:
            await d.dispatch(c, "test")

    await at(ny(9, 23, 19), core.Start())
    await at(ny(9, 23, 19, 5), core.Fail("long ago"))
    await at(ny(9, 23, 19, 10), core.Fail("long ago too"))
    await at(ny(9, 23, 19, 30), core.Finish())
    await at(ny(10, 23, 18), core.Start())
    await at(ny(10, 23, 18, 20), core.Fail("forgot the units"))
    await at(ny(10, 23, 19), core.Finish(), core.CompleteUnit())
    await at(ny(11, 20, 18), core.Start())
    await at(ny(11, 20, 18, 10), core.Fail("sign error"))
    await at(ny(11, 20, 18, 15), core.Next())
    await at(ny(11, 20, 19), core.Fail("forgot the chain rule"))
    await at(ny(11, 20, 23, 30), core.Fail("late-night off-by-one"))  # 04:30 UTC on the 21st
    await at(ny(11, 20, 23, 45), core.Finish())
    await at(ny(11, 21, 9), core.Start())
    await at(ny(11, 21, 9, 10), core.Fail("bias <b>term</b>"))
    await at(ny(11, 21, 9, 20), core.Fail(""))
    await at(ny(11, 21, 9, 25), core.Next())
    await at(ny(11, 21, 10), core.Finish(), core.CompleteUnit())
    await at(ny(11, 22, 20), core.Start())
    d.storage.close()


@pytest.fixture
def known_config(tmp_path: Path) -> Config:
    config = parse_config(CONFIG + f"storage:\n  path: {tmp_path / 'known.sqlite3'}\n", base_dir=tmp_path)
    # On its own thread: under Playwright's sync API this thread already runs an event loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, build_known_history(config)).result()
    return config


def make_app(config: Config, now: datetime = NOW) -> web.Application:
    return build_app(config, Storage(config.storage_path, config.steps), clock=FakeClock(now))


@pytest.fixture
async def client(known_config: Config) -> Any:
    async with TestClient(TestServer(make_app(known_config))) as c:
        yield c


async def get_html(client: Client, path: str, status: int = 200) -> str:
    resp = await client.get(path)
    assert resp.status == status, path
    assert resp.content_type == "text/html"
    return await resp.text()


def by_id(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', html)
    assert match, element_id
    return match.group(1)


# --- through aiohttp's test client ---------------------------------------------------------------


async def test_the_history_page_shows_the_totals_and_the_pace(client: Client) -> None:
    html = await get_html(client, "/history")
    assert by_id(html, "lifetime-failures") == "8"
    assert by_id(html, "last-7") == "5"
    assert by_id(html, "streak") == "3"  # 20, 21 and 22 November
    assert by_id(html, "sessions-count") == "5"
    # 2 of 8 lessons done; 6 left in 8.6 days (to 1 Dec, 17:00 UTC); 2 in 60.1 days so far.
    assert by_id(html, "units-left") == "6"
    assert by_id(html, "days-left") == "8 days left"
    assert by_id(html, "pace-needed") == "1 lesson every 1.4 days"
    assert '<b>Behind:</b> so far 1 lesson every 30.1 days.' in html


async def test_the_chart_has_one_bar_per_day_with_its_count(client: Client) -> None:
    html = await get_html(client, "/history")
    days = re.findall(
        r'<g class="day[^"]*" data-date="([0-9-]+)" data-count="(\d+)">\s*<title>([^<]*)</title>', html)
    assert len(days) == 56
    assert (days[0][0], days[-1][0]) == ("2026-09-28", "2026-11-22")
    assert {d: int(n) for d, n, _ in days if n != "0"} == DAYS
    titles = [t for _, n, t in days if n != "0"]
    assert titles == ["Fri 23 Oct: 1 failure", "Fri 20 Nov: 3 failures", "Sat 21 Nov: 2 failures"]
    assert "No failures" not in html and "6 failures in 8 weeks, at most 3 in a day." in html


async def test_the_session_list_opens_each_failure_log(client: Client) -> None:
    html = await get_html(client, "/history")
    assert re.findall(r'href="/history/(\d+)"', html) == ["5", "4", "3", "2", "1"]
    assert "Fri 20 Nov 2026, 18:00" in html
    log = await get_html(client, "/history/3")
    assert by_id(log, "session-failures") == "3"
    items = re.findall(r'<span class="when"[^>]*>([0-9:]+) <span class="dim">([^<]*)</span></span>\s*'
                       r'<span class="what"><span class="step">([^<]*)</span>\s*'
                       r'<span class="note[^"]*">([^<]*)</span>', log)
    assert items == [
        ("18:10", "+10:00", "Review last notes", "sign error"),
        ("19:00", "+1:00:00", "Watch the lecture", "forgot the chain rule"),
        ("23:30", "+5:30:00", "Watch the lecture", "late-night off-by-one"),  # local time, not UTC
    ]
    four = await get_html(client, "/history/4")
    assert "bias &lt;b&gt;term&lt;/b&gt;" in four and "<b>term" not in four
    assert '<span class="note is-empty">no note</span>' in four


@pytest.mark.parametrize("path, status, text", [
    ("/history/99", 404, "No session 99"),
    ("/history/0", 404, "No session 0"),
    ("/history/x", 400, "A session number is a whole number"),
    ("/history/-1", 400, "A session number is a whole number"),
    ("/history/%C2%B2", 400, "A session number is a whole number"),  # a superscript two
    ("/history/99999999999999999999", 400, "A session number is a whole number"),
])
async def test_unknown_sessions_and_bad_numbers(client: Client, path: str, status: int, text: str) -> None:
    html = await get_html(client, path, status)
    assert text in html and 'href="/history"' in html


async def test_theme_and_token_carry_over_but_nothing_else(
    known_config: Config, tmp_path: Path
) -> None:
    text = CONFIG + f"storage:\n  path: {known_config.storage_path}\nserver:\n  token: s3cret-token\n"
    config = parse_config(text, base_dir=tmp_path)
    async with TestClient(TestServer(make_app(config))) as c:
        html = await get_html(c, "/history?theme=light&token=s3cret-token")
        assert 'class="so-history theme-light"' in html
        assert 'href="/control?theme=light&amp;token=s3cret-token"' in html
        assert 'href="/history/3?theme=light&amp;token=s3cret-token"' in html
        html = await get_html(c, '/history?theme="><script>&token=wr0ng')
        assert "theme-dark" in html and "<script>" not in html and "wr0ng" not in html
        assert 'href="/control"' in html


async def test_after_the_deadline_it_says_how_far_past_and_how_many_were_done(
    known_config: Config
) -> None:
    async with TestClient(TestServer(make_app(known_config, datetime(2026, 12, 4, 17, tzinfo=UTC)))) as c:
        html = await get_html(c, "/history")
    assert "3 days past" in html
    assert "<b>The deadline has passed:</b> deadline passed 3 days ago; 2 of 8 lessons done." in html


async def test_an_empty_history(make_config: Any) -> None:
    config = make_config()
    async with TestClient(TestServer(make_app(config))) as c:
        html = await get_html(c, "/history")
    assert by_id(html, "lifetime-failures") == "0" and by_id(html, "sessions-count") == "0"
    assert html.count('<g class="day') == 56 and "No failures in the last 8 weeks." in html
    assert "No sessions yet" in html


async def test_the_database_is_read_off_the_event_loop(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real = history.history

    def spy(*args: Any) -> dict[str, Any]:
        threads.append(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(history, "history", spy)
    await get_html(client, "/history")
    assert threads and threads[0] != threading.main_thread().name


async def test_a_missing_database_is_a_clear_error(known_config: Config) -> None:
    async with TestClient(TestServer(make_app(known_config))) as c:
        for path in (known_config.storage_path, *known_config.storage_path.parent.glob("*.sqlite3-*")):
            path.unlink()
        html = await get_html(c, "/history", 503)
        assert "Cannot read the history" in html and "no such database" in html


# --- in a real Chromium ----------------------------------------------------------------------


@pytest.fixture
def server(known_config: Config) -> Iterator[AppServer]:
    with AppServer(lambda: make_app(known_config)) as s:
        yield s


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with new_page(browser, 900, 900) as p:
        yield p


BARS = """() => Array.from(document.querySelectorAll('svg.day-chart g.day'), (g) => {
    const bar = g.querySelector('rect.bar').getBoundingClientRect();
    const count = g.querySelector('text.day-count');
    return {title: g.querySelector('title').textContent, h: bar.height, w: bar.width, left: bar.left,
            label: count && getComputedStyle(count).display !== 'none' ? count.textContent : null};
})"""


@pytest.mark.chromium
def test_the_history_page_in_chromium(server: AppServer, page: Page) -> None:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{server.url}/history")
    assert len(requests) == 3 and all(u.startswith(server.url + "/") for u in requests)  # page, 2 CSS
    assert page.locator("#lifetime-failures").inner_text() == "8"
    bars = page.evaluate(BARS)
    assert len(bars) == 56
    assert [b["left"] for b in bars] == sorted(b["left"] for b in bars)  # one after another, oldest first
    shown = {b["title"]: (round(b["h"]), b["label"]) for b in bars if not b["title"].endswith(": 0 failures")}
    # The busiest day is 110 px tall and the others in proportion; each count is written over its bar.
    assert shown == {"Fri 23 Oct: 1 failure": (37, "1"), "Fri 20 Nov: 3 failures": (110, "3"),
                     "Sat 21 Nov: 2 failures": (73, "2")}
    assert all(b["h"] == 2 and b["w"] > 5 for b in bars if b["title"].endswith(": 0 failures"))

    # As a narrow OBS dock: no sideways scrolling, every day still drawn, only the busiest count.
    page.set_viewport_size({"width": 320, "height": 700})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    bars = page.evaluate(BARS)
    assert len(bars) == 56 and all(b["w"] >= 3 for b in bars)
    assert [b["label"] for b in bars if b["label"]] == ["3"]

    page.get_by_role("link", name=re.compile(r"^#3 ")).click()
    page.wait_for_url(f"{server.url}/history/3")
    assert page.locator(".failure-log .note").all_inner_texts() == [
        "sign error", "forgot the chain rule", "late-night off-by-one"]


@pytest.mark.chromium
@pytest.mark.parametrize("theme, accent, background", [
    ("dark", "rgb(255, 197, 61)", "rgb(29, 31, 38)"), ("light", "rgb(217, 72, 15)", "rgb(245, 246, 248)"),
])
def test_the_chart_reads_in_both_themes(
    server: AppServer, page: Page, theme: str, accent: str, background: str
) -> None:
    page.goto(f"{server.url}/history?theme={theme}")
    style = page.evaluate("""() => ({
        bar: getComputedStyle(document.querySelector('.day.has-failures .bar')).fill,
        body: getComputedStyle(document.body).backgroundColor,
        text: getComputedStyle(document.querySelector('.day .day-count')).fill,
        fg: getComputedStyle(document.body).color})""")
    assert (style["bar"], style["body"]) == (accent, background)
    assert style["text"] == style["fg"]  # the counts are written in the page's text colour


@pytest.mark.chromium
def test_the_step_overlay_and_the_dock_show_the_review_notes(server: AppServer, page: Page) -> None:
    page.goto(f"{server.url}/overlay/step")
    wait_live(page)
    review = page.locator(".so-review")
    assert review.is_visible()
    shown = fields(page)  # the text itself: the label is upper-cased on screen
    assert shown["review.head"] == "session 4 · 2 failures"
    assert shown["review.lines"] == "bias <b>term</b> (Review last notes)"
    command(server, "next")
    wait_field(page, "step.title", "Watch the lecture")
    assert not review.is_visible() and field(page, "review.lines") == ""
    command(server, "prev")
    wait_field(page, "review.lines", "bias <b>term</b> (Review last notes)")
    assert review.is_visible()
    page.set_viewport_size({"width": 420, "height": 900})
    page.goto(f"{server.url}/control")
    wait_live(page)
    assert page.locator("section.review").is_visible()
    assert page.locator("section.review .notes").inner_text() == "bias <b>term</b> (Review last notes)"


@pytest.mark.chromium
def test_the_deadline_overlay_follows_the_units_done_in_the_dock(
    server: AppServer, browser: Browser, page: Page
) -> None:
    page.goto(f"{server.url}/overlay/deadline")
    wait_live(page)
    shown = fields(page)
    assert (shown["goal.left"], shown["goal.pace"], shown["goal.track"]) == (
        "6 lessons left", "1 lesson every 1.4 days", "behind")
    assert page.locator(".so-track").evaluate("e => getComputedStyle(e).color") == "rgb(255, 107, 107)"
    dock = page.context.new_page()
    dock.goto(f"{server.url}/control")
    wait_live(dock)
    dock.get_by_role("button", name="Lesson done").click()
    wait_field(page, "goal.left", "5 lessons left")  # 5 left in 8.6 days
    assert field(page, "goal.pace") == "1 lesson every 1.7 days"
    assert field(dock, "goal.left") == "5 lessons left"
    dock.get_by_role("button", name="Undo lesson").click()
    wait_field(page, "goal.left", "6 lessons left")
    for _ in range(2):
        dock.get_by_role("button", name="Undo lesson").click()
    wait_field(page, "goal.left", "8 lessons left")
    undo = dock.get_by_role("button", name="Undo lesson")  # none left to undo: it says so
    dock.wait_for_function("() => document.querySelector('[data-command=unit-undo]').disabled")
    assert undo.get_attribute("title") == "not now: no unit of the goal is marked done"
