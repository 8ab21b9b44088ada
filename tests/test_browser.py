"""The pages in a real Chromium against a real `study-overlay serve`: what OBS and the streamer see."""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from overlay.i18n import LANGUAGES
from overlay.pages import overlays as pages

from .browser import (
    alpha,
    cli,
    command,
    decode_png,
    field,
    fields,
    new_page,
    start_server,
    wait_field,
    wait_live,
)
from .procs import ServerProcess, wait_for

pytestmark = pytest.mark.chromium


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with new_page(browser, 700, 240) as p:
        yield p


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path)
    yield proc
    proc.stop()


def known_state(server: ServerProcess) -> None:
    """Session 1 paused on step 2 right after starting, with one failure."""
    command(server, "start")
    command(server, "fail", note="sign <b>error</b>")
    command(server, "next")
    command(server, "pause")


KNOWN = {
    "phase": "paused", "session.number": "1", "session.elapsed": "0:00", "step.number": "2",
    "step.count": "3", "step.title": "Watch the lecture", "step.elapsed": "0:00", "step.target": "45:00",
    "step.delta": "\u221245:00", "failures.session": "1", "failures.total": "1",
    "failures.last_note": "sign <b>error</b>", "deadline.label": "Course final",
    "deadline.left": "6 days", "deadline.word": "left", "deadline.days": "6 days left",
    "goal.left": "", "goal.pace": "", "goal.track": "", "review.head": "",
    "review.lines": "", "review.more": "",
    "next.head": "up next", "next.steps": "One project", "next.more": "",
}


FIRST_PAINT = """
window.firstPaint = null;
new MutationObserver((_, observer) => {
  if (!document.documentElement || !document.documentElement.classList.contains("is-painted")) return;
  observer.disconnect();
  const out = {};
  for (const el of document.querySelectorAll("[data-field]"))
    if (!(el.dataset.field in out)) out[el.dataset.field] = el.textContent;
  window.firstPaint = {fields: out, live: document.documentElement.classList.contains("is-live")};
}).observe(document, {subtree: true, attributes: true, attributeFilter: ["class"]});
"""


def test_each_overlay_shows_the_known_state(server: ServerProcess, page: Page) -> None:
    known_state(server)
    page.add_init_script(FIRST_PAINT)
    for name in pages.OVERLAYS:
        url = f"{server.url}/overlay/{name}"
        page.goto(url)
        wait_live(page)
        shown = fields(page)
        assert shown, name
        for key, text in shown.items():
            assert text == KNOWN[key], (name, key)
        # The first paint, from the page's own snapshot before the socket spoke, is the same:
        # no flicker when the socket takes over, and never a frame of empty fields.
        first = page.evaluate("window.firstPaint")
        assert first == {"fields": shown, "live": False}, name
        assert "phase-paused" in page.evaluate("document.documentElement.className")


def test_the_bar_follows_commands_from_the_cli_and_the_api(server: ServerProcess, page: Page) -> None:
    known_state(server)
    page.goto(f"{server.url}/overlay/bar")
    wait_live(page)
    cli(server, "resume")
    wait_field(page, "phase", "running")
    wait_field(page, "session.elapsed", "0:02", timeout=5_000)  # the clock ticks in the page
    command(server, "fail", note="off by one")
    wait_field(page, "failures.session", "2")
    assert "is-bump" in page.evaluate("document.documentElement.className")  # the celebration
    # It moves only what the compositor can play alone (text-shadow cost 50 ms of the page's
    # thread a bump, in frames painted one by one; this, 10: bench/bench_overlays.py).
    moved = page.evaluate("""() => {
        const count = document.querySelector('.so-count');
        const names = [getComputedStyle(count).animationName,
                       getComputedStyle(count, '::before').animationName];
        const rules = [...document.styleSheets].flatMap((sheet) => [...sheet.cssRules])
            .filter((r) => r instanceof CSSKeyframesRule && names.includes(r.name));
        return [names, rules.flatMap((r) => [...r.cssRules].flatMap((k) => [...k.style]))];
    }""")
    assert "none" not in moved[0] and moved[1] and set(moved[1]) <= {"transform", "opacity"}, moved
    assert field(page, "failures.total") == "2"
    cli(server, "next")
    wait_field(page, "step.title", "One project")
    assert field(page, "step.number") == "3" and field(page, "step.delta") == ""
    assert page.locator(".so-pip.is-done").count() == 2
    cli(server, "pause")
    wait_field(page, "phase", "paused")
    stopped = field(page, "session.elapsed")
    page.wait_for_timeout(1500)
    assert field(page, "session.elapsed") == stopped  # paused clocks stop


def test_overlays_are_transparent_outside_their_panel(server: ServerProcess, page: Page) -> None:
    known_state(server)
    for name in pages.OVERLAYS:
        for theme in ("dark", "plain"):
            width, height = pages.SIZES[name]  # with room around the box to check
            page.set_viewport_size({"width": width + (0 if name == "bar" else 160), "height": height + 80})
            page.goto(f"{server.url}/overlay/{name}?theme={theme}")
            wait_live(page)
            box = page.locator("main.so-panel").bounding_box()
            assert box is not None
            width, height, rows = decode_png(page.screenshot(omit_background=True))
            margin = 26  # the dark panel's soft shadow
            outside = [(x, y) for y in range(0, height, 3) for x in range(0, width, 3)
                       if not (box["x"] - margin <= x <= box["x"] + box["width"] + margin
                               and box["y"] - margin <= y <= box["y"] + box["height"] + margin)]
            assert outside and all(alpha(rows, x, y) == 0 for x, y in outside), (name, theme)
            inside = [alpha(rows, x, y) for y in range(int(box["y"]), int(box["y"] + box["height"]))
                      for x in range(int(box["x"]), int(box["x"] + box["width"]), 2)]
            if theme == "dark":
                solid = sum(1 for a in inside if a > 200) / len(inside)
                assert solid > 0.9, (name, solid)  # the panel itself
            else:
                inked = sum(1 for a in inside if a > 0) / len(inside)
                assert 0.02 < inked < 0.6, (name, inked)  # only the text


def test_a_mistyped_overlay_address_is_a_small_readable_hint_not_a_white_box(
    server: ServerProcess, page: Page
) -> None:
    page.set_viewport_size({"width": 800, "height": 300})
    answer = page.goto(f"{server.url}/overlay/timr")
    assert answer is not None and answer.status == 404
    hint = page.locator("#so-not-found")
    assert "/overlay/timer" in hint.inner_text() and "/overlay/bar" in hint.inner_text()
    box = hint.bounding_box()
    assert box is not None and box["width"] < 700 and box["height"] < 150  # small
    width, height, rows = decode_png(page.screenshot(omit_background=True))
    margin = 26
    outside = [(x, y) for y in range(0, height, 3) for x in range(0, width, 3)
               if not (box["x"] - margin <= x <= box["x"] + box["width"] + margin
                       and box["y"] - margin <= y <= box["y"] + box["height"] + margin)]
    assert outside and all(alpha(rows, x, y) == 0 for x, y in outside)  # no white box
    # Readable: light text on the dark panel, as on every overlay.
    color = page.evaluate("getComputedStyle(document.querySelector('#so-not-found')).color")
    assert color == "rgb(245, 247, 251)", color
    page.goto(f"{server.url}/overlay/timer/")  # pasted with a trailing slash
    wait_live(page)
    assert page.url == f"{server.url}/overlay/timer"


def test_loading_asks_nothing_of_any_other_host(server: ServerProcess, page: Page) -> None:
    known_state(server)
    requests: list[str] = []
    sockets: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("websocket", lambda ws: sockets.append(ws.url))
    for path in [f"/overlay/{name}" for name in pages.OVERLAYS] + ["/control", "/"]:
        requests.clear()
        page.goto(f"{server.url}{path}")
        if path != "/":
            wait_live(page)
            assert len(requests) <= 4, requests  # the page, its CSS, its script(s)
        assert requests and all(url.startswith(server.url + "/") for url in requests), requests
    assert sockets and all(url.startswith(f"ws://127.0.0.1:{server.port}/ws") for url in sockets)


def test_a_server_restart_reconnects_and_shows_the_restored_state(
    server: ServerProcess, page: Page
) -> None:
    known_state(server)
    page.goto(f"{server.url}/overlay/bar")
    wait_live(page)
    server.kill9()  # a crash; a graceful stop shows the page the same closed socket
    page.wait_for_function("() => document.documentElement.classList.contains('is-offline')")
    assert page.locator(".so-offline").is_visible()
    again = ServerProcess(server.config, server.port).start()
    try:
        wait_live(page, timeout=15_000)
        assert not page.locator(".so-offline").is_visible()
        assert fields(page)["failures.session"] == "1" and fields(page)["step.title"] == "Watch the lecture"
        command(again, "resume")
        command(again, "fail", note="after the restart")
        wait_field(page, "failures.session", "2")
        wait_field(page, "phase", "running")
    finally:
        again.kill9()
    # While down, the clocks stop and dim instead of ticking on as if live.
    page.wait_for_function("() => document.documentElement.classList.contains('is-offline')")
    shown = field(page, "session.elapsed")
    page.wait_for_timeout(1300)
    assert field(page, "session.elapsed") == shown


def test_a_passed_deadline_counts_up(tmp_path: Path, page: Page) -> None:
    server = start_server(tmp_path, deadline_in=-timedelta(days=3, hours=4, minutes=10, seconds=10))
    try:
        page.goto(f"{server.url}/overlay/deadline")
        wait_live(page)
        assert field(page, "deadline.left") == "3 days" and field(page, "deadline.word") == "past"
        assert "is-passed" in page.evaluate("document.documentElement.className")
        page.goto(f"{server.url}/overlay/bar")
        wait_live(page)
        assert field(page, "deadline.days") == "3 days past"
    finally:
        page.goto("about:blank")  # an open socket makes a graceful stop wait for its timeout
        server.stop()


def dock(page: Page, server: ServerProcess, query: str = "") -> None:
    page.set_viewport_size({"width": 420, "height": 900})
    page.goto(f"{server.url}/control{query}")
    wait_live(page)


def dock_drained(page: Page) -> None:
    """Everything the dock sent so far has been dispatched (the server runs one socket's
    commands in order); the probe, a goto to step 1 from step 1 or no session, is refused."""
    page.keyboard.press("1")
    expect_text(page, "#so-result", "go to step 1 refused")


def test_the_dock_keyboard_and_buttons_change_the_state(server: ServerProcess, page: Page) -> None:
    dock(page, server)
    page.keyboard.press("s")
    wait_field(page, "phase", "running")
    page.get_by_role("button", name="Next").click()
    wait_field(page, "step.number", "2")  # shown while it is saved; /api/state has it once saved
    wait_for(lambda: server.state()["step"]["id"] == "lecture", "next saved")
    page.keyboard.press("n")
    wait_field(page, "step.number", "3")
    page.keyboard.press(" ")  # with the Next button focused: one toggle, not a click too
    wait_field(page, "phase", "paused")
    page.wait_for_timeout(300)
    assert server.state()["phase"] == "paused" and server.state()["step"]["number"] == 3
    page.keyboard.press("f")
    assert page.evaluate("document.activeElement.id") == "so-note"
    page.keyboard.type("n p space bar")  # typing a note fires no shortcut
    page.keyboard.press("Enter")
    wait_field(page, "failures.session", "1")
    assert page.locator("#so-log li .note").first.inner_text() == "n p space bar"
    snap = server.state()
    assert snap["step"]["number"] == 3 and snap["phase"] == "paused"
    # The note field empties once the failure is saved (a refused one keeps its text).
    page.wait_for_function("() => document.getElementById('so-note').value === ''")
    page.get_by_role("button", name="Resume").click()
    wait_field(page, "phase", "running")
    page.keyboard.press("1")
    wait_field(page, "step.number", "1")
    page.get_by_role("button", name="Finish").click()
    expect_text(page, ".buttons", "Click again to finish")
    dock_drained(page)
    assert server.state()["phase"] == "running"
    page.get_by_role("button", name="Click again to finish").click()
    wait_field(page, "phase", "finished")


def expect_text(page: Page, selector: str, text: str) -> None:
    page.wait_for_function(
        "([sel, text]) => Array.from(document.querySelectorAll(sel)).some(e => e.textContent.includes(text))",
        arg=[selector, text],
    )


def test_a_refused_command_shows_its_reason(server: ServerProcess, page: Page) -> None:
    dock(page, server)
    prev = page.get_by_role("button", name="Prev")
    assert prev.is_disabled()
    assert prev.get_attribute("title") == "not now: no session is running; start one first"
    page.keyboard.press("p")  # a key still asks, and shows why not
    expect_text(page, "#so-result", "Prev refused: no session is running; start one first (NoActiveSession)")
    page.keyboard.press("s")
    wait_field(page, "phase", "running")
    page.keyboard.press("p")
    expect_text(page, "#so-result", "Prev refused: already on the first step (NoStepBefore)")
    assert "is-refused" in (page.locator("#so-result").get_attribute("class") or "")
    page.get_by_role("button", name="Reset").click()
    dock_drained(page)
    assert server.state()["phase"] == "running"
    page.get_by_role("button", name="Click again to reset").click()
    wait_field(page, "phase", "not started")
    page.get_by_role("button", name="Restore the reset session").click()
    wait_field(page, "phase", "running")
    assert not page.get_by_role("button", name="Restore the reset session").is_visible()


def test_the_dock_disables_what_cannot_be_done_now_and_marks_the_likely_next(
    server: ServerProcess, page: Page
) -> None:
    dock(page, server)

    def shown() -> tuple[set[str], str]:
        state = page.evaluate("""() => Array.from(document.querySelectorAll('.buttons button, .fail-btn'))
            .filter((b) => b.offsetParent !== null)
            .map((b) => [b.dataset.command, b.disabled, b.classList.contains('main')])""")
        return {c for c, off, _ in state if off}, next(c for c, _, main in state if main)

    disabled, main = shown()
    assert main == "start" and "start" not in disabled
    assert {"next", "prev", "pause", "finish", "reset", "fail"} <= disabled
    page.get_by_role("button", name="Start S", exact=True).click()
    wait_field(page, "phase", "running")
    page.wait_for_function("!document.querySelector('[data-command=next]').disabled")
    disabled, main = shown()
    assert main == "next" and "start" in disabled and "prev" in disabled
    assert not {"next", "pause", "finish", "reset", "fail"} & disabled
    page.keyboard.press(" ")
    wait_field(page, "phase", "paused")
    page.wait_for_function("document.querySelector('[data-command=resume]').classList.contains('main')")
    for code in LANGUAGES:  # the hint is not cut in a narrow OBS dock, in any language
        page.set_viewport_size({"width": 300, "height": 800})
        page.goto(f"{server.url}/control?lang={code}")
        room, needed = page.locator("#so-note").evaluate("""(el) => {
            const cs = getComputedStyle(el), ctx = document.createElement('canvas').getContext('2d');
            ctx.font = cs.font;
            return [el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight),
                    ctx.measureText(el.placeholder).width]; }""")
        assert needed <= room, (code, needed, room)


def test_the_dock_passes_its_token_and_says_when_it_has_none(tmp_path: Path, page: Page) -> None:
    server = start_server(tmp_path, token="s3cret-token")
    try:
        dock(page, server)
        assert page.locator("#so-token-warning").is_visible()
        page.keyboard.press("s")
        expect_text(page, "#so-result", "Start refused: this server needs its token")
        assert server.state()["phase"] == "idle"
        dock(page, server, "?token=s3cret-token")
        page.keyboard.press("s")
        wait_field(page, "phase", "running")
        wait_for(lambda: server.state()["phase"] == "running", "start saved")
    finally:
        page.goto("about:blank")
        server.stop()


def seconds(text: str) -> int:
    total = 0
    for part in text.split(":"):
        total = total * 60 + int(part)
    return total


def test_clocks_keep_time_with_the_server(server: ServerProcess, page: Page) -> None:
    command(server, "start")
    page.goto(f"{server.url}/overlay/timer")
    wait_live(page)
    time.sleep(2.5)
    shown = seconds(field(page, "session.elapsed"))
    actual = server.state()["session"]["elapsed_s"]
    assert actual - 1.2 <= shown <= actual, (shown, actual)


def test_an_hour_of_ticking_neither_drifts_nor_uses_animation_frames(
    server: ServerProcess, page: Page
) -> None:
    command(server, "start")
    page.add_init_script("""
        window.studyOverlaySilenceMs = 2e9;  // a simulated hour brings no server beats
        window.soFrames = 0;
        const raf = window.requestAnimationFrame.bind(window);
        window.requestAnimationFrame = (fn) => { window.soFrames++; return raf(fn); };
    """)
    page.clock.install()
    page.goto(f"{server.url}/overlay/timer")
    wait_live(page)
    page.evaluate("window.soFrames = 0")  # wait_live itself polls on animation frames; count the hour only
    start = page.evaluate("StudyOverlay.snapshot().session.elapsed_s")
    writes = page.evaluate("""() => { window.soWrites = 0;
        new MutationObserver((m) => { window.soWrites += m.length; }).observe(
          document.querySelector('[data-field="session.elapsed"]'), {childList: true, characterData: true});
      }""")
    assert writes is None
    page.clock.run_for(3600 * 1000)
    assert seconds(field(page, "session.elapsed")) == int(start + 3600)
    assert seconds(field(page, "step.elapsed")) == int(start + 3600)
    assert page.evaluate("window.soFrames") == 0
    assert 3590 <= page.evaluate("window.soWrites") <= 3601  # one text update a second


def test_session_and_step_clocks_each_roll_over_on_their_own_second(
    server: ServerProcess, page: Page
) -> None:
    command(server, "start")
    time.sleep(0.5)  # so the session's second and the step's second fall half a second apart
    command(server, "next")
    page.clock.install()
    page.goto(f"{server.url}/overlay/timer")
    wait_live(page)
    for _ in range(30):
        page.clock.run_for(170)
        rows = page.evaluate(SHOWN_AND_TRUE)
        for name, shown, true in rows:
            # A write lands a few ms after its second turns; allow only that much lag.
            assert seconds(shown) == int(true) or (
                seconds(shown) == int(true) - 1 and true % 1 < 0.05
            ), (name, shown, true)


def test_a_frozen_server_is_not_shown_as_live(server: ServerProcess, page: Page) -> None:
    command(server, "start")
    page.clock.install()
    page.goto(f"{server.url}/overlay/timer")
    wait_live(page)
    assert server.proc is not None
    server.proc.send_signal(signal.SIGSTOP)  # the socket stays open; nothing comes through it
    try:
        page.clock.run_for(26_000)
        page.wait_for_function("() => document.documentElement.classList.contains('is-offline')")
        assert "is-live" not in (page.get_attribute("html", "class") or "")
    finally:
        server.proc.send_signal(signal.SIGCONT)
    page.clock.run_for(5_000)  # the page retries; the thawed server answers
    wait_live(page)
    assert "is-offline" not in (page.get_attribute("html", "class") or "")


SHOWN_AND_TRUE = """() => {
    const s = StudyOverlay.snapshot(), w = (performance.now() - StudyOverlay.anchor()) / 1000;
    const text = (name) => document.querySelector(`[data-field="${name}"]`).textContent;
    return [["session.elapsed", text("session.elapsed"), s.session.elapsed_s + w],
            ["step.elapsed", text("step.elapsed"), s.step.elapsed_s + w]];
}"""


def test_the_dock_log_follows_fails_undo_and_a_new_session(server: ServerProcess, page: Page) -> None:
    command(server, "start")
    command(server, "fail", note="first")
    dock(page, server)
    notes = page.locator("#so-log li .note")
    for note in ("second", "third"):
        command(server, "fail", note=note)
    page.wait_for_function("() => document.querySelectorAll('#so-log li').length === 3")
    assert notes.all_inner_texts() == ["third", "second", "first"]
    page.keyboard.press("u")
    page.wait_for_function("() => document.querySelectorAll('#so-log li').length === 2")
    assert notes.all_inner_texts() == ["second", "first"]
    command(server, "fail", note="again")
    page.wait_for_function("() => document.querySelectorAll('#so-log li').length === 3")
    assert notes.all_inner_texts() == ["again", "second", "first"]
    command(server, "finish")
    command(server, "start")
    page.wait_for_function("() => document.querySelectorAll('#so-log li').length === 0")
    page.keyboard.press("Shift+F")
    wait_field(page, "failures.session", "1")
    assert notes.all_inner_texts() == [""]
    assert page.locator("#so-log-more").is_hidden()
    for i in range(2, 24):  # past the 20 a snapshot carries: the newest 20, numbered as counted
        command(server, "fail", note=f"n{i}")
    wait_field(page, "failures.session", "23")
    page.wait_for_function("() => document.querySelectorAll('#so-log li').length === 20")
    assert notes.all_inner_texts() == [f"n{i}" for i in range(23, 3, -1)]
    more = page.locator("#so-log-more a")  # the rest: on this session's own history page
    assert more.is_visible() and more.get_attribute("href") == "/history/2"
    more.click()
    page.wait_for_url(f"{server.url}/history/2")
    assert page.get_by_text("n2", exact=True).count() == 1  # older than the dock's 20


def test_an_older_snapshot_never_replaces_a_newer_one(server: ServerProcess, page: Page) -> None:
    known_state(server)
    page.add_init_script("""
        const Native = window.WebSocket;
        window.WebSocket = class extends Native {
          constructor(...args) { super(...args); window.soSocket = this; }
        };
    """)
    page.goto(f"{server.url}/overlay/failures")
    wait_live(page)
    deliver = """(changes) => {
        const snap = {...StudyOverlay.snapshot(), ...changes};
        window.soSocket.dispatchEvent(new MessageEvent('message', {data: JSON.stringify(snap)}));
    }"""
    rev = page.evaluate("StudyOverlay.snapshot().rev")
    page.evaluate(deliver, {"rev": rev - 1, "failures": {"session": 99, "total": 99, "last_note": "old"}})
    assert field(page, "failures.session") == "1"
    page.evaluate(deliver, {"failures": {"session": 5, "total": 5, "last_note": "same rev"}})
    assert field(page, "failures.session") == "5"  # the same rev (a status change) is shown


def test_custom_css_injected_like_obs_does_applies(server: ServerProcess, page: Page) -> None:
    known_state(server)
    page.goto(f"{server.url}/overlay/failures")
    wait_live(page)
    assert page.locator(".so-cheer").is_visible()
    # OBS adds the source's "Custom CSS" as a stylesheet once the page has loaded.
    page.add_style_tag(content=".so-cheer { display: none } html { --so-accent: #00ff00 }")
    assert not page.locator(".so-cheer").is_visible()
    assert page.locator(".so-count").evaluate("e => getComputedStyle(e).color") == "rgb(0, 255, 0)"


def test_ctrl_z_undoes_the_last_command_and_the_dock_says_what(server: ServerProcess, page: Page) -> None:
    dock(page, server)
    page.keyboard.press("s")
    wait_field(page, "phase", "running")
    page.keyboard.press("n")
    wait_field(page, "step.number", "2")
    expect_text(page, "#so-undo", "Undo: Next (just now)")
    page.keyboard.press("Control+z")
    wait_field(page, "step.number", "1")
    expect_text(page, "#so-undo", "Undo: Start (just now)")
    page.keyboard.press("Control+Shift+z")
    wait_field(page, "step.number", "2")
    page.locator("#so-note").click()
    page.keyboard.type("abc")
    page.keyboard.press("Control+z")  # in the note field it is the field's own undo
    page.keyboard.press("Escape")
    page.keyboard.press("p")  # a command after it: had Ctrl+Z gone out, this would be refused
    wait_field(page, "step.number", "1")
    expect_text(page, "#so-undo", "Undo: Prev (just now)")
    assert page.locator("button[data-command=redo]").is_disabled()  # nothing undone since the last
    page.get_by_role("button", name="Undo Ctrl+Z", exact=True).click()
    wait_field(page, "step.number", "2")


def test_after_finish_the_dock_shows_the_recap_to_copy(server: ServerProcess, page: Page) -> None:
    dock(page, server)
    command(server, "start")
    command(server, "fail", note="sign error")
    assert page.locator("#so-recap").is_hidden()
    command(server, "finish")
    page.wait_for_function("() => !document.getElementById('so-recap').hidden")
    text = page.locator("#so-recap-text").inner_text()
    with urllib.request.urlopen(f"{server.url}/api/sessions/1/recap", timeout=5) as answer:
        assert text == json.loads(answer.read())["short"]
    assert text.startswith("Study session 1: ") and "1 failure " in text
    assert page.locator("#so-recap-long").get_attribute("href") == "/history/1/recap"
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator("#so-recap-copy").click()
    expect_text(page, "#so-recap-copy", "Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == text
    command(server, "start")  # a new session: the recap goes away
    page.wait_for_function("() => document.getElementById('so-recap').hidden")
