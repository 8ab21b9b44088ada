"""The HTML pages: what Chromium paints from the page alone (its embedded snapshot, the socket held
back), options, assets, the dock's markup. The display rules live in overlay.js only, so the shown
text is read from a real browser."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser, async_playwright

from overlay.app import LIVE, build_app
from overlay.config import Config
from overlay.core import display
from overlay.i18n import language, texts
from overlay.pages import overlays as pages
from overlay.storage.store import Storage

from .browser import CHROMIUM, LAUNCH_ARGS
from .conftest import ROUTINE, FakeClock, require_real

Client = TestClient[web.Request, web.Application]
OVERLAY_PATHS = [f"/overlay/{name}" for name in pages.OVERLAYS]


class Page(HTMLParser):
    """The data-field texts (first element of each name), the root's classes and style, the links."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.root: dict[str, str] = {}
        self.links: list[str] = []
        self.commands: list[str] = []
        self._open: list[tuple[str, str | None]] = []  # (tag, field name being collected)
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.root = a
        if tag in ("link", "script") and (a.get("href") or a.get("src")):
            self.links.append(a.get("href") or a.get("src") or "")
        if "data-command" in a:
            self.commands.append(a["data-command"])
        name = a.get("data-field")
        if name is not None and name not in self.fields:
            self.fields[name] = ""
        if tag not in ("link", "meta", "input"):
            self._open.append((tag, name))

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for _, name in self._open:
            if name is not None:
                self.fields[name] += data


async def get_page(client: Client, path: str) -> tuple[Page, str]:
    resp = await client.get(path)
    assert resp.status == 200, path
    assert resp.content_type == "text/html"
    html = await resp.text()
    return Page(html), html


@pytest.fixture
async def chromium() -> Any:
    require_real("chromium")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        await browser.close()


class Painted:
    """What a viewer sees of a page painted from its own HTML: field texts and root classes."""

    def __init__(self, fields: dict[str, str], classes: list[str], texts: dict[str, str]) -> None:
        self.fields = fields
        self.classes = classes
        self.texts = texts  # the inner text of the first element matching each selector asked for


FIELDS_JS = """() => { const out = {};
  for (const el of document.querySelectorAll('[data-field]'))
    if (!(el.dataset.field in out)) out[el.dataset.field] = el.textContent;
  return out; }"""


async def painted(browser: Browser, client: Client, path: str, *selectors: str) -> Painted:
    """Open `path` in Chromium with its socket held back: all it shows comes from the page."""
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.route_web_socket("**/ws", lambda ws: None)  # never connects to the server
    await page.goto(str(client.make_url(path)))
    await page.wait_for_function("document.documentElement.classList.contains('is-painted')",
                                 timeout=10_000)
    shown = Painted(await page.evaluate(FIELDS_JS),
                    await page.evaluate("Array.from(document.documentElement.classList)"),
                    {sel: await page.locator(sel).first.inner_text() for sel in selectors})
    await page.close()
    assert errors == []
    return shown


async def known_state(client: Client, clock: FakeClock) -> None:
    """Session 1 paused on step 2 after 13:35, one failure with markup in its note."""
    for body, wait in [({"command": "start"}, 750), ({"command": "fail", "note": "sign <b>error</b>"}, 0),
                       ({"command": "next"}, 65), ({"command": "pause"}, 0)]:
        resp = await client.post("/api/commands", json=body)
        assert resp.status == 200, await resp.text()
        clock.advance(seconds=wait)


EXPECTED = {
    "phase": "paused",
    "session.number": "1",
    "session.elapsed": "13:35",
    "step.number": "2",
    "step.count": "3",
    "step.title": "Watch the lecture",
    "step.elapsed": "1:05",
    "step.target": "45:00",
    "step.delta": "\u221243:55",
    "failures.session": "1",
    "failures.total": "1",
    "failures.last_note": "sign <b>error</b>",
    "deadline.label": "Course final",
    "deadline.left": "6 days",  # the deadline is 6d 23h after T0; 13:35 have passed
    "deadline.word": "left",
    "deadline.days": "6 days left",
    # No goal in this config, and the current step does not review the previous session.
    "goal.left": "",
    "goal.pace": "",
    "goal.track": "",
    "review.head": "",
    "review.lines": "",
    "review.more": "",
    # Instead of the review, the step overlay shows the steps still to come.
    "next.head": "up next",
    "next.steps": "One project",
    "next.more": "",
}


@pytest.mark.chromium
async def test_every_overlay_paints_the_state_from_the_page_alone(
    client: Client, clock: FakeClock, chromium: Browser
) -> None:
    await known_state(client, clock)
    seen: dict[str, str] = {}
    for path in OVERLAY_PATHS:
        shown = await painted(chromium, client, path)
        assert shown.fields, f"no data-field elements on {path}"
        for name, text in shown.fields.items():
            assert text == EXPECTED[name], (path, name)
        seen.update(shown.fields)
        kind = path.rsplit("/", 1)[1]
        assert shown.classes[:4] == ["so", f"so-{kind}", "theme-dark", "align-left"]
        assert "phase-paused" in shown.classes
        _, html = await get_page(client, path)
        assert "<b>" not in html  # the note is escaped in the embedded snapshot
    assert seen == EXPECTED


@pytest.mark.chromium
async def test_a_skipped_step_is_an_empty_pip_not_a_done_one(
    client: Client, clock: FakeClock, chromium: Browser
) -> None:
    for body in ({"command": "start"}, {"command": "goto", "step": 3}):
        assert (await client.post("/api/commands", json=body)).status == 200
    page = await chromium.new_page()
    await page.route_web_socket("**/ws", lambda ws: None)
    await page.goto(str(client.make_url("/overlay/step")))
    await page.wait_for_function("document.documentElement.classList.contains('is-painted')")
    pips = await page.evaluate("""() => Array.from(document.querySelectorAll('.so-pip'), (li) =>
        [li.className, getComputedStyle(li).backgroundColor, li.title])""")
    await page.close()
    assert [p[0] for p in pips] == ["so-pip is-done", "so-pip is-skipped", "so-pip is-current"]
    done, skipped, _ = (p[1] for p in pips)
    assert skipped == "rgba(0, 0, 0, 0)" and done != skipped  # never the colour of done
    assert pips[1][2] == "Watch the lecture (skipped)"


@pytest.mark.chromium
async def test_without_its_script_an_overlay_shows_nothing_rather_than_empty_fields(
    client: Client, clock: FakeClock, chromium: Browser
) -> None:
    await known_state(client, clock)
    page = await chromium.new_page()
    await page.route("**/static/overlay.js*", lambda route: route.abort())
    await page.goto(str(client.make_url("/overlay/timer")))
    assert await page.evaluate("getComputedStyle(document.body).visibility") == "hidden"
    await page.close()


@pytest.mark.chromium
async def test_the_dock_shows_the_failure_log(client: Client, clock: FakeClock, chromium: Browser) -> None:
    await known_state(client, clock)
    shown = await painted(chromium, client, "/control", "#so-log li")
    assert shown.texts["#so-log li"] == "+12:30 review sign <b>error</b>"


@pytest.mark.chromium
async def test_idle_state_and_over_target_classes(
    client: Client, clock: FakeClock, chromium: Browser
) -> None:
    shown = await painted(chromium, client, "/overlay/timer")
    assert shown.fields["session.elapsed"] == "0:00" and shown.fields["phase"] == "not started"
    assert shown.fields["step.delta"] == ""
    assert "no-session" in shown.classes
    await client.post("/api/commands", json={"command": "start"})
    clock.advance(minutes=15, seconds=1)
    shown = await painted(chromium, client, "/overlay/timer")
    assert shown.fields["step.delta"] == "+0:01"
    assert "is-over" in shown.classes


async def test_good_options_are_applied(client: Client) -> None:
    page, _ = await get_page(client, "/overlay/timer?theme=light&scale=1.5&accent=%23FF5500&align=center")
    assert "theme-light" in page.root["class"] and "align-center" in page.root["class"]
    assert page.root["style"] == "--so-scale:1.5;--so-accent:#ff5500"
    page, _ = await get_page(client, "/overlay/step?theme=PLAIN&accent=0a0&align=right")
    assert "theme-plain" in page.root["class"] and "align-right" in page.root["class"]
    assert page.root["style"] == "--so-accent:#0a0"


BAD = {
    "theme": '"><script>alert(1)</script>',
    "scale": "1e309",
    "accent": "red;background:url(//evil.example/x)",
    "align": "</style><b>x",
}


@pytest.mark.parametrize("path", [*OVERLAY_PATHS, "/control", "/"])
async def test_bad_options_fall_back_to_defaults_and_are_never_reflected(client: Client, path: str) -> None:
    resp = await client.get(path, params=BAD)
    assert resp.status == 200
    html = await resp.text()
    for value in (*BAD.values(), "alert(1)", "evil.example", "<b>x"):
        assert value not in html
    page = Page(html)
    if path.startswith("/overlay/"):
        assert "theme-dark" in page.root["class"] and "align-left" in page.root["class"]
        assert "style" not in page.root


@pytest.mark.parametrize("text, expected", [
    ("0.25", 0.25), ("4", 4.0), ("0.2", 1.0), ("4.5", 1.0), ("nan", 1.0), ("inf", 1.0), ("", 1.0),
    ("2x", 1.0),
])
def test_scale_must_be_a_number_in_range(text: str, expected: float) -> None:
    assert pages.options({"scale": text}).scale == expected


@pytest.mark.parametrize("text, expected", [
    ("ff5500", "#ff5500"), ("#ABC", "#abc"), ("abcd", None), ("#12345g", None), ("red", None),
    ("#fff;x", None),
])
def test_accent_must_be_a_hex_colour(text: str, expected: str | None) -> None:
    assert pages.options({"accent": text}).accent == expected


def test_the_shown_text_of_clocks_and_countdowns_in_python() -> None:
    """The Python side (/history, CLI, export); overlay.js has the pages' own, tested in Chromium."""
    pages = display
    assert [pages.clock(t) for t in (0, 59, 60, 3599, 3600, 36125)] == [
        "0:00", "0:59", "1:00", "59:59", "1:00:00", "10:02:05"]
    assert pages.delta(100.9, 900) == "\u221213:20"
    assert pages.delta(900.5, 900) == "0:00"
    assert pages.delta(961, 900) == "+1:01"
    en = language("en")
    assert texts.countdown(en, 30) == "1m" and texts.countdown(en, 3600) == "1h 00m"
    assert texts.countdown(en, 86400 + 61) == "24h 02m" and texts.countdown(en, -59) == "0m"
    assert texts.days_text(en, 86400 * 6.9) == "6 days left" and texts.days_text(en, 86400) == "1 day left"
    assert texts.days_text(en, -(3 * 86400 + 100)) == "3 days past"
    assert texts.days_text(en, -3000) == "50m past"


@pytest.mark.chromium
async def test_the_dock_has_a_button_for_every_command(client: Client, chromium: Browser) -> None:
    page, html = await get_page(client, "/control")
    assert {"start", "next", "prev", "pause", "resume", "fail", "undo-fail", "finish", "reset",
            "restore"} <= set(page.commands)
    shown = await painted(chromium, client, "/control")
    assert shown.fields["obs.state"] == "off"
    assert "obs.enabled is false" in shown.fields["obs.reason"]
    for key in ("N", "P", "Space", "F", "U", "S"):
        assert f"<kbd>{key}</kbd>" in html
    script = (pages.STATIC / "control.js").read_text()
    assert '" ": "toggle-pause"' in script  # Space sends toggle-pause


@pytest.mark.chromium
async def test_the_dock_shows_a_hotkey_waiting_for_confirmation_and_restore(
    client: Client, chromium: Browser
) -> None:
    live = client.app[LIVE]
    live.set_status("hotkeys", {"state": "active", "reason": "listening", "confirm": "finish"})
    shown = await painted(chromium, client, "/control", "#so-confirm")
    assert shown.texts["#so-confirm"] == "press the hotkey again to confirm: Finish"
    assert shown.fields["hotkeys.state"] == "active"
    assert "can-restore" not in shown.classes
    await client.post("/api/commands", json={"command": "start"})
    await client.post("/api/commands", json={"command": "reset"})
    shown = await painted(chromium, client, "/control")
    assert "can-restore" in shown.classes


async def test_the_dock_says_when_it_lacks_the_token(token_client: Client) -> None:
    _, html = await get_page(token_client, "/control")
    assert 'id="so-token-warning"' in html and "add\n<code>?token=…</code> to this dock" in html
    _, html = await get_page(token_client, "/control?token=typ0")
    assert "is not this server's" in html and "typ0" not in html and "add\n<code>" not in html
    _, html = await get_page(token_client, "/control?token=s3cret-token")
    assert 'id="so-token-warning"' not in html
    _, html = await get_page(token_client, "/?token=s3cret-token")
    assert 'href="/control?token=s3cret-token"' in html
    _, html = await get_page(token_client, "/?token=wrong")
    assert "wrong" not in html and 'href="/control"' in html
    resp = await token_client.get("/control?token=chosen-by-someone",
                                  headers={"Authorization": "Bearer s3cret-token"})
    assert "chosen-by-someone" not in await resp.text()  # only the right token is passed on


@pytest.mark.chromium
async def test_without_a_deadline_the_deadline_parts_are_empty(
    make_config: Callable[..., Config], clock: FakeClock, chromium: Browser
) -> None:
    config = make_config(ROUTINE.split("deadline:")[0])
    app = build_app(config, Storage(config.storage_path, config.steps), clock=clock)
    async with TestClient(TestServer(app)) as c:
        shown = await painted(chromium, c, "/overlay/deadline")
    assert "no-deadline" in shown.classes
    assert shown.fields["deadline.left"] == "" and shown.fields["deadline.label"] == ""


# The deadline of ROUTINE is 6 d 23 h after T0.
@pytest.mark.chromium
@pytest.mark.parametrize("after, words", [
    (timedelta(0), "6 days left"),
    (timedelta(days=5, hours=22), "1 day left"),
    (timedelta(days=6, hours=5, minutes=10), "17h 50m left"),
    (timedelta(days=6, hours=23, minutes=50), "50m past"),
    (timedelta(days=10), "3 days past"),
])
async def test_the_deadline_reads_the_same_on_each_overlay_as_in_the_cli(
    client: Client, clock: FakeClock, chromium: Browser, after: timedelta, words: str
) -> None:
    clock.now += after
    snapshot = await (await client.get("/api/state")).json()
    assert texts.days_text(language("en"), snapshot["deadline"]["left_s"]) == words  # CLI, /history
    deadline = await painted(chromium, client, "/overlay/deadline")
    assert f"{deadline.fields['deadline.left']} {deadline.fields['deadline.word']}" == words
    bar = await painted(chromium, client, "/overlay/bar")
    assert bar.fields["deadline.days"] == words


async def test_the_index_links_every_overlay_and_the_dock(client: Client) -> None:
    _, html = await get_page(client, "/")
    for path in (*OVERLAY_PATHS, "/control"):
        assert f'href="{path}"' in html
    assert 'href="/overlay/bar?theme=plain"' in html


@pytest.mark.parametrize("path", OVERLAY_PATHS)
async def test_an_overlay_is_small_and_needs_two_assets(client: Client, path: str) -> None:
    resp = await client.get(path)
    html = await resp.read()
    assert resp.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    links = Page(html.decode()).links
    assert [link.split("?")[0] for link in links if not link.startswith("data:")] == [
        "/static/overlay.css", "/static/overlay.js"]
    # What OBS downloads: the page and its assets as sent (gzip), headers left out.
    wire = len(html)
    raw = len(html)
    for link in links:
        if link.startswith("/static/"):
            sent = await client.get(link, auto_decompress=False, headers={"Accept-Encoding": "gzip"})
            wire += len(await sent.read())
            raw += len(await (await client.get(link)).read())
    assert wire < 16 * 1024, wire
    assert wire < raw / 2, (wire, raw)  # the assets really went out compressed
    assert raw < 32 * 1024, raw  # and unpacked it stays small to parse


async def test_assets_are_cached_and_revalidated(client: Client) -> None:
    page, _ = await get_page(client, "/overlay/timer")
    url = next(link for link in page.links if link.startswith("/static/overlay.js?v="))
    resp = await client.get(url)
    assert resp.status == 200 and resp.content_type in ("text/javascript", "application/javascript")
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    etag = resp.headers["ETag"]
    again = await client.get(url, headers={"If-None-Match": etag})
    assert again.status == 304 and await again.read() == b""
    plain = await client.get("/static/overlay.css")
    assert plain.status == 200 and plain.headers["Cache-Control"] == "no-cache"
    assert plain.content_type == "text/css"
    for name in ("nope.js", "..%2Fpages.py", "overlay.css.map"):
        assert (await client.get(f"/static/{name}")).status == 404


def test_each_precompressed_asset_matches_its_source() -> None:
    """aiohttp sends NAME.gz to clients that take gzip: a stale one would serve old code."""
    sources = [p for p in pages.STATIC.iterdir() if p.suffix in (".css", ".js")]
    assert sources
    for path in sources:
        packed = path.with_name(path.name + ".gz")
        assert packed.exists() and gzip.decompress(packed.read_bytes()) == path.read_bytes(), (
            f"{packed.name} is stale: run make assets")


# --- deadline pacing and the review of the previous session -----------------------------------

GOAL = "goal: {units: 8, unit: lesson}\n"
REVIEWING = ROUTINE.replace("scene: Review}", "scene: Review, reviews_previous: true}")


@pytest.fixture
async def goal_client(make_config: Callable[..., Config], clock: FakeClock) -> Any:
    config = make_config(REVIEWING + GOAL)
    app = build_app(config, Storage(config.storage_path, config.steps), clock=clock)
    async with TestClient(TestServer(app)) as c:
        yield c


async def units_done(client: Client, n: int) -> None:
    for _ in range(n):
        assert (await client.post("/api/commands", json={"command": "unit-done"})).status == 200


# The deadline is 6 d 23 h after T0, when the first session starts (pacing counts from it).
@pytest.mark.chromium
@pytest.mark.parametrize("days, done, left, pace, track", [
    # 1 day in, 3 done: 5 left in 5.96 days; 3 a day so far projects 20.9 >= 8.
    (1, 3, "5 lessons left", "1 lesson every 1.2 days", "on track"),
    # 4 days in, 1 done: 7 left in 2.96 days; 0.25 a day so far projects 1.7 < 8.
    (4, 1, "7 lessons left", "2.4 lessons a day", "behind"),
    # Under a day in: the pace so far is noise, so no verdict.
    (0.5, 1, "7 lessons left", "1.1 lessons a day", ""),
    (2, 8, "all 8 lessons done", "", ""),
    # 8 days in: the deadline passed a day ago.
    (8, 6, "6 of 8 lessons done", "", ""),
])
async def test_the_deadline_overlay_shows_the_pace(
    goal_client: Client, clock: FakeClock, chromium: Browser, days: float, done: int, left: str,
    pace: str, track: str
) -> None:
    await goal_client.post("/api/commands", json={"command": "start"})
    await units_done(goal_client, done)
    clock.advance(days=days)
    page = await painted(chromium, goal_client, "/overlay/deadline")
    shown = page.fields
    assert (shown["goal.left"], shown["goal.pace"], shown["goal.track"]) == (left, pace, track)
    classes = page.classes
    assert ("is-on-track" in classes, "is-behind" in classes) == (track == "on track", track == "behind")
    assert "no-goal" not in classes
    bar = await painted(chromium, goal_client, "/overlay/bar")
    assert (bar.fields["goal.left"], bar.fields["goal.track"]) == (left, track)
    dock = await painted(chromium, goal_client, "/control")
    assert (dock.fields["goal.left"], dock.fields["goal.pace"]) == (left, pace)


@pytest.mark.chromium
async def test_without_a_goal_the_pacing_parts_are_hidden(client: Client, chromium: Browser) -> None:
    shown = await painted(chromium, client, "/overlay/deadline")
    assert "no-goal" in shown.classes and shown.fields["goal.left"] == ""
    dock, _ = await get_page(client, "/control")
    assert "unit-done" not in dock.commands and "unit-undo" not in dock.commands


async def test_the_dock_counts_units_and_undoes_them(goal_client: Client) -> None:
    dock, html = await get_page(goal_client, "/control")
    assert {"unit-done", "unit-undo"} <= set(dock.commands)
    assert ">Lesson done</button>" in html and ">Undo lesson</button>" in html
    resp = await goal_client.post("/api/commands", json={"command": "unit-undo"})
    assert resp.status == 409 and (await resp.json())["refusal"] == "NoUnitToUndo"


@pytest.mark.chromium
async def test_the_review_step_shows_the_previous_sessions_notes(
    goal_client: Client, chromium: Browser
) -> None:
    for body in [{"command": "start"}, {"command": "fail", "note": "sign <b>error</b>"},
                 {"command": "fail"}, {"command": "next"}, {"command": "fail", "note": "chain rule"},
                 {"command": "finish"}, {"command": "start"}]:
        assert (await goal_client.post("/api/commands", json=body)).status == 200
    notes = "sign <b>error</b> (Review last notes)\nchain rule (Watch the lecture)"
    # The dock lists every note; the step overlay the lines it has room for, here all of them.
    for path, field in (("/overlay/step", "review.lines"), ("/control", "review.notes")):
        shown = await painted(chromium, goal_client, path)
        _, html = await get_page(goal_client, path)
        assert shown.fields["review.head"] == "session 1 · 3 failures", path
        assert shown.fields[field] == notes, path
        assert shown.fields.get("review.more", "") == "", path  # nothing more to say
        assert "no-review" not in shown.classes
        assert "<b>" not in html
    await goal_client.post("/api/commands", json={"command": "next"})
    shown = await painted(chromium, goal_client, "/overlay/step")
    assert shown.fields["review.lines"] == "" and "no-review" in shown.classes


async def test_the_dock_and_the_index_link_the_history(client: Client, token_client: Client) -> None:
    _, html = await get_page(client, "/control")
    assert 'href="/history"' in html
    _, html = await get_page(client, "/control?theme=light")
    assert 'href="/history?theme=light"' in html
    _, html = await get_page(token_client, "/control?token=s3cret-token")
    assert 'href="/history?token=s3cret-token"' in html
    _, html = await get_page(token_client, "/control?token=wr0ng-t0ken")
    assert 'href="/history"' in html and "wr0ng-t0ken" not in html
    _, html = await get_page(client, "/")
    assert 'href="/history"' in html
