"""Overlay benchmarks in Debian's Chromium against a real server; prints figures, asserts nothing.

    .venv/bin/python bench/bench_overlays.py [--quick]

Measures, per overlay: bytes and requests to load it (cold, and again on an OBS-style refresh),
when its first value is painted and when the live snapshot has been applied; the latency from a
command to the DOM change (median, p99); the page's CPU for one failure's bump; and its CPU
while the timer runs, as CDP Performance.getMetrics TaskDuration over 10 s, next to a
requestAnimationFrame loop for scale.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, CDPSession, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from overlay.i18n import LANGUAGES  # noqa: E402
from overlay.pages.overlays import OVERLAYS, SIZES  # noqa: E402
from tests.browser import launch, start_server  # noqa: E402
from tests.procs import ServerProcess  # noqa: E402

# Installed before any page script: when the first value was painted and when it went live.
PROBE = """
window.soProbe = { live: null, messages: [] };
new MutationObserver(() => {
  if (window.soProbe.live === null && document.documentElement.classList.contains('is-live'))
    window.soProbe.live = performance.now();
}).observe(document, { attributes: true, subtree: true, attributeFilter: ['class'] });
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', () => window.soProbe.messages.push(performance.now()));
  }
};
"""
WATCH = """(name) => {
  const el = document.querySelector(`[data-field="${name}"]`);
  window.soChanges = [];
  new MutationObserver(() => window.soChanges.push({
    wall: performance.timeOrigin + performance.now(), page: performance.now(),
    message: window.soProbe.messages.at(-1),
  })).observe(el, { childList: true, characterData: true, subtree: true });
}"""
DOCK_LOOP = """async (n) => {
  const el = document.querySelector('[data-field="failures.session"]');
  const out = [];
  for (let i = 0; i < n; i++) {
    const before = el.textContent;
    const t0 = performance.now();
    const changed = new Promise((resolve) => {
      const mo = new MutationObserver(() => {
        if (el.textContent !== before) { mo.disconnect(); resolve(performance.now()); }
      });
      mo.observe(el, { childList: true, characterData: true, subtree: true });
    });
    StudyOverlay.send({ command: 'fail' });
    out.push((await changed) - t0);
  }
  return out;
}"""
RAF_PAGE = """<!doctype html><p id=t style="font: 700 50px sans-serif"></p><script>
const t = document.getElementById('t'), t0 = performance.now();
const loop = () => { const s = Math.floor((performance.now() - t0) / 1000);
  t.textContent = Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0'); requestAnimationFrame(loop); };
requestAnimationFrame(loop);
</script>"""


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def post(server: ServerProcess, command: str) -> None:
    """Send a command; a refusal (409, e.g. a reset with nothing to reset) is fine here."""
    request = urllib.request.Request(
        f"{server.url}/api/commands", data=json.dumps({"command": command}).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            answer.read()
    except urllib.error.HTTPError as exc:
        if exc.code != 409:
            raise


class Traffic:
    """HTTP requests, WebSockets and bytes on the wire for one page, from CDP Network events."""

    def __init__(self, cdp: CDPSession) -> None:
        self.requests: list[str] = []
        self.cached = 0
        self.wire = 0
        self.sockets = 0
        self.frames: list[int] = []
        cdp.on("Network.requestWillBeSent", lambda e: self.requests.append(e["request"]["url"]))
        cdp.on("Network.requestServedFromCache", lambda e: self._cached())
        cdp.on("Network.loadingFinished", lambda e: self._bytes(e["encodedDataLength"]))
        cdp.on("Network.webSocketCreated", lambda e: self._socket())
        cdp.on("Network.webSocketFrameReceived",
               lambda e: self.frames.append(len(e["response"]["payloadData"])))
        cdp.send("Network.enable")

    def _cached(self) -> None:
        self.cached += 1

    def _bytes(self, n: int) -> None:
        self.wire += n

    def _socket(self) -> None:
        self.sockets += 1


def wait_live(page: Page) -> None:
    page.wait_for_function("() => document.documentElement.classList.contains('is-live')", timeout=10_000)


def load(browser: Browser, server: ServerProcess, name: str, runs: int, lang: str = "en") -> dict[str, Any]:
    paint, live, wire, requests, snapshot, refresh_wire, refresh_net = [], [], [], [], [], [], []
    for _ in range(runs):
        width, height = SIZES[name]
        context = browser.new_context(viewport={"width": width, "height": height})
        context.add_init_script(PROBE)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        traffic = Traffic(cdp)
        page.goto(f"{server.url}/overlay/{name}" + ("" if lang == "en" else f"?lang={lang}"))
        wait_live(page)
        page.wait_for_function("() => performance.getEntriesByName('first-contentful-paint').length > 0")
        timing = page.evaluate("""() => ({
            fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
            live: window.soProbe.live })""")
        paint.append(timing["fcp"])
        live.append(timing["live"])
        wire.append(traffic.wire)
        requests.append(len(traffic.requests) + traffic.sockets)
        snapshot.append(traffic.frames[0] if traffic.frames else 0)
        traffic.wire, traffic.requests, traffic.cached = 0, [], 0
        page.reload()  # OBS's "Refresh" on a browser source
        wait_live(page)
        refresh_wire.append(traffic.wire)
        refresh_net.append(len(traffic.requests) - traffic.cached)
        context.close()
    median = statistics.median
    return {"paint": median(paint), "live": median(live), "wire": median(wire), "requests": max(requests),
            "snapshot": median(snapshot), "refresh_wire": median(refresh_wire),
            "refresh_net": max(refresh_net)}


def clock_offset(page: Page, samples: int = 30) -> float:
    """The page's clock (timeOrigin + now) minus this process's, in ms: taken from the reading with
    the shortest round trip, as NTP does (the lab does the same over its own socket)."""
    best = (float("inf"), 0.0)
    for _ in range(samples):
        t0 = time.time() * 1000
        page_ms = page.evaluate("performance.timeOrigin + performance.now()")
        t1 = time.time() * 1000
        best = min(best, (t1 - t0, page_ms - (t0 + t1) / 2))
    return best[1]


def api_latency(browser: Browser, server: ServerProcess, n: int) -> dict[str, list[float]]:
    """A command POSTed by another process until the overlay's DOM shows it (wall clock)."""
    context = browser.new_context()
    context.add_init_script(PROBE)
    page = context.new_page()
    page.goto(f"{server.url}/overlay/failures")
    wait_live(page)
    page.evaluate(WATCH, "failures.session")
    total, server_part, page_part = [], [], []
    offset = clock_offset(page)
    for i in range(n):
        t0 = time.time()
        post(server, "fail")
        t1 = time.time()
        page.wait_for_function("(n) => window.soChanges.length >= n", arg=i + 1, polling=1)
        change = page.evaluate("window.soChanges.at(-1)")
        total.append(change["wall"] - offset - t0 * 1000)
        server_part.append((t1 - t0) * 1000)
        page_part.append(change["page"] - change["message"])
    context.close()
    return {"total": total, "post": server_part, "render": page_part}


def dock_latency(browser: Browser, server: ServerProcess, n: int) -> list[float]:
    """A command sent from the dock page until its own DOM shows the result (page clock)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server.url}/control")
    wait_live(page)
    result: list[float] = page.evaluate(DOCK_LOOP, n)
    context.close()
    return result


def cpu(browser: Browser, url: str | None, seconds: float) -> dict[str, float]:
    """TaskDuration (ms) and friends over `seconds` of an idle page whose clocks tick."""
    context = browser.new_context(viewport={"width": 420, "height": 170})
    page = context.new_page()
    if url is None:
        page.set_content(RAF_PAGE)
    else:
        page.goto(url)
        wait_live(page)
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.wait_for_timeout(1000)

    def metrics() -> dict[str, float]:
        return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}

    before = metrics()
    time.sleep(seconds)
    after = metrics()
    context.close()
    return {
        "task_ms": (after["TaskDuration"] - before["TaskDuration"]) * 1000,
        "script_ms": (after["ScriptDuration"] - before["ScriptDuration"]) * 1000,
        "layouts": after["LayoutCount"] - before["LayoutCount"],
        "styles": after["RecalcStyleCount"] - before["RecalcStyleCount"],
    }


def bump_cost(browser: Browser, server: ServerProcess, n: int) -> list[float]:
    """TaskDuration (ms) of /overlay/failures over 1.2 s after a fail: one bump, played out."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.goto(f"{server.url}/overlay/failures")
    wait_live(page)
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.wait_for_timeout(1000)

    def task_s() -> float:
        return next(m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]
                    if m["name"] == "TaskDuration")

    out = []
    for _ in range(n):
        before = task_s()
        post(server, "fail")
        time.sleep(1.2)
        out.append((task_s() - before) * 1000)
    context.close()
    return out


def latencies(browser: Browser, server: ServerProcess, n: int, where: str) -> None:
    post(server, "reset")
    post(server, "start")
    lat = api_latency(browser, server, n)
    print(f"command -> DOM, {where}: POST /api/commands from another process, {n} fails"
          f" (clocks aligned): median {statistics.median(lat['total']):.2f} ms,"
          f" p99 {pct(lat['total'], 99):.2f} ms")
    # Pages are shown a change while it is saved: the answer, after the fsync, comes later.
    print(f"  the POST's own round trip, answered once saved (synchronous=FULL): median"
          f" {statistics.median(lat['post']):.2f} ms, p99 {pct(lat['post'], 99):.2f} ms;"
          f" snapshot received -> DOM: median {statistics.median(lat['render']):.2f} ms,"
          f" p99 {pct(lat['render'], 99):.2f} ms")
    post(server, "reset")
    post(server, "start")
    dock = dock_latency(browser, server, n)
    print(f"  from the dock's own socket, {n} fails: median {statistics.median(dock):.2f} ms,"
          f" p99 {pct(dock, 99):.2f} ms")
    post(server, "reset")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer runs, for a smoke test")
    args = parser.parse_args()
    loads, commands, seconds = (2, 20, 3.0) if args.quick else (10, 200, 10.0)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        server = start_server(Path(tmp))
        browser = launch(pw)
        try:
            post(server, "start")
            post(server, "fail")
            print(f"Chromium {browser.version}; each load in a fresh context (empty cache),"
                  f" median of {loads}")
            print(f"{'overlay':<14} {'req':>3} {'bytes':>7} {'snapshot':>8} {'painted':>8} {'live':>7}"
                  f" {'refresh: bytes':>15} {'net requests':>12}")
            for lang in LANGUAGES:  # another language carries its scripts' words in the page
                for name in OVERLAYS:
                    r = load(browser, server, name, loads, lang)
                    label = name if lang == "en" else f"{name} ({lang})"
                    print(f"{label:<14} {r['requests']:>3} {r['wire']:>7.0f} {r['snapshot']:>8.0f}"
                          f" {r['paint']:>6.1f}ms {r['live']:>5.1f}ms {r['refresh_wire']:>15.0f}"
                          f" {r['refresh_net']:>12}")
            print("  requests: HTTP + WebSocket; bytes: HTTP on the wire (headers + gzip bodies);"
                  " snapshot: first WebSocket frame;\n  painted: first contentful paint (the values, "
                  "painted from the page's own snapshot); live: first socket snapshot applied (ms since"
                  " navigation)")
            latencies(browser, server, commands, "database on disk")
            shm = Path("/dev/shm")
            if shm.is_dir():
                with tempfile.TemporaryDirectory(dir=shm) as ram:
                    fast = start_server(Path(ram))
                    try:
                        latencies(browser, fast, commands, "database on tmpfs (fsync is free)")
                    finally:
                        fast.stop()
            post(server, "start")
            bumps = bump_cost(browser, server, 3 if args.quick else 12)
            print(f"CPU of one failure's bump on /overlay/failures, over 1.2 s: TaskDuration median"
                  f" {statistics.median(bumps):.1f} ms, max {max(bumps):.1f} ms")
            for label, url in [("timer", f"{server.url}/overlay/timer"), ("bar", f"{server.url}/overlay/bar"),
                               ("rAF loop (reference)", None)]:
                m = cpu(browser, url, seconds)
                print(f"CPU over {seconds:.0f} s, {label}, clock running: TaskDuration {m['task_ms']:.1f} ms,"
                      f" script {m['script_ms']:.1f} ms, {m['layouts']:.0f} layouts,"
                      f" {m['styles']:.0f} style recalcs")
        finally:
            browser.close()
            server.stop()


if __name__ == "__main__":
    main()
