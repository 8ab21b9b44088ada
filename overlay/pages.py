"""HTML pages: overlays for OBS browser sources, the control dock, and the index linking them.

Pages are rendered with the current snapshot so the first value shows before the socket opens;
overlay.js keeps them live afterwards with the same formatting rules as `field_text` below.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import math
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlencode

import jinja2
from aiohttp import web

from .security import token_ok

if TYPE_CHECKING:
    from .server import Live

HERE = Path(__file__).resolve().parent
OVERLAYS = ("timer", "step", "failures", "deadline", "bar")
THEMES = ("dark", "light", "plain")
ALIGNS = ("left", "center", "right")
SCALE_RANGE = (0.25, 4.0)
PHASE_WORDS = {"idle": "not started", "running": "running", "paused": "paused", "finished": "finished"}
# Recommended OBS browser-source sizes at scale=1 (the panel is drawn at the top, aligned by ?align=).
# The step overlay grows under its pips while the review step lists the previous session's notes.
SIZES = {"timer": (420, 150), "step": (640, 240), "failures": (380, 140), "deadline": (420, 160),
         "bar": (1920, 110)}
_HEX = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
HTML_HEADERS = {
    "Cache-Control": "no-store",  # the HTML carries live values; the assets it links are cached
    "Content-Security-Policy": "script-src 'self'; object-src 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

Snapshot = Mapping[str, Any]


# --- query options -----------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    theme: str = "dark"
    scale: float = 1.0
    accent: str | None = None
    align: str = "left"

    @property
    def style(self) -> str:
        """CSS custom properties for the root element (every value is validated)."""
        parts = [f"--so-scale:{self.scale:g}"] if self.scale != 1.0 else []
        if self.accent:
            parts.append(f"--so-accent:{self.accent}")
        return ";".join(parts)


def options(query: Mapping[str, str]) -> Options:
    """?theme=, ?scale=, ?accent=, ?align=; a bad value falls back to the default."""
    theme = query.get("theme", "").lower()
    align = query.get("align", "").lower()
    return Options(
        theme=theme if theme in THEMES else "dark",
        scale=_scale(query.get("scale", "")),
        accent=_accent(query.get("accent", "")),
        align=align if align in ALIGNS else "left",
    )


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        return 1.0
    low, high = SCALE_RANGE
    return value if math.isfinite(value) and low <= value <= high else 1.0


def _accent(text: str) -> str | None:
    match = _HEX.fullmatch(text.strip())
    return f"#{match.group(1).lower()}" if match else None


# --- the shown text of every data-field (overlay.js has the same rules) --------------------


def clock(total: int) -> str:
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def delta(elapsed_s: float, target_s: float) -> str:
    d = math.floor(elapsed_s) - math.floor(target_s)
    return ("+" if d > 0 else "\u2212" if d < 0 else "") + clock(abs(d))


def countdown(left_s: float) -> str:
    minutes = math.ceil(left_s / 60) if left_s > 0 else math.floor(-left_s / 60)
    d, rest = divmod(minutes, 1440)
    h, m = divmod(rest, 60)
    if d:
        return f"{d}d {h:02d}h {m:02d}m"
    return f"{h}h {m:02d}m" if h else f"{m}m"


def days_text(left_s: float) -> str:
    word = "left" if left_s > 0 else "past"
    days = math.floor(abs(left_s) / 86400)
    if days:
        return f"{days} day{'' if days == 1 else 's'} {word}"
    return f"{countdown(left_s)} {word}"


def _session_elapsed(s: Snapshot) -> str:
    return clock(math.floor(s["session"]["elapsed_s"])) if s["session"] else "0:00"


def _step_delta(s: Snapshot) -> str:
    step = s["step"]
    if not step["target_s"] or not s["session"]:
        return ""
    return delta(step["elapsed_s"], step["target_s"])


def _deadline(fmt: Callable[[float], str]) -> Callable[[Snapshot], str]:
    return lambda s: fmt(s["deadline"]["left_s"]) if s["deadline"] else ""


def plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _goal_left(s: Snapshot) -> str:
    g = s["goal"]
    if not g:
        return ""
    if not g["left"]:
        return f"all {plural(g['units'], g['unit'], g['unit_plural'])} done"
    if g["passed"]:
        return f"{g['done']} of {plural(g['units'], g['unit'], g['unit_plural'])} done"
    return f"{plural(g['left'], g['unit'], g['unit_plural'])} left"


def _pacing(s: Snapshot) -> bool:
    """The goal is still open and its deadline ahead: the pace needed means something."""
    g = s["goal"]
    return bool(g and g["left"] and not g["passed"])


def _track(s: Snapshot) -> str:
    on_track = s["goal"]["on_track"] if _pacing(s) else None
    return "" if on_track is None else "on track" if on_track else "behind"


def _review_head(s: Snapshot) -> str:
    r = s["review"]
    return f"session {r['session']} · {plural(r['count'], 'failure', 'failures')}" if r else ""


def _review_notes(s: Snapshot) -> str:
    """One line per note, the note first: when the line is cut short, the step name goes."""
    r = s["review"]
    return "\n".join(f"{n['note']} ({n['step']})" for n in r["notes"]) if r else ""


def confirm_text(s: Snapshot) -> str:
    """The dock's line while a hotkey waits for its second press (control.js has the same)."""
    command = (s.get("hotkeys") or {}).get("confirm")
    return f"press the hotkey again to confirm: {command}" if command else ""


FORMATS: dict[str, Callable[[Snapshot], str]] = {
    "phase": lambda s: PHASE_WORDS.get(s["phase"], str(s["phase"])),
    "session.elapsed": _session_elapsed,
    "step.elapsed": lambda s: clock(math.floor(s["step"]["elapsed_s"])),
    "step.target": lambda s: clock(math.floor(s["step"]["target_s"])) if s["step"]["target_s"] else "",
    "step.delta": _step_delta,
    "deadline.left": _deadline(countdown),
    "deadline.word": _deadline(lambda left: "left" if left > 0 else "past"),
    "deadline.days": _deadline(days_text),
    "goal.left": _goal_left,
    "goal.pace": lambda s: s["goal"]["needed_text"] if _pacing(s) else "",
    "goal.track": _track,
    "review.head": _review_head,
    "review.notes": _review_notes,
}


def field_text(snap: Snapshot, name: str) -> str:
    """What an element with data-field=`name` shows for this snapshot."""
    fmt = FORMATS.get(name)
    if fmt is not None:
        return fmt(snap)
    value: Any = snap
    for part in name.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None or isinstance(value, Mapping | list) else str(value)


def log_offset(snap: Snapshot, item: Snapshot) -> str:
    """When a failure was logged, as time since the session started: "+12:03"."""
    if not snap["session"]:
        return ""
    since = datetime.fromisoformat(item["at"]) - datetime.fromisoformat(snap["session"]["started_at"])
    return "+" + clock(max(0, math.floor(since.total_seconds())))


def root_classes(snap: Snapshot) -> list[str]:
    """State classes on <html>; overlay.js toggles the same ones."""
    step, deadline = snap["step"], snap["deadline"]
    over = bool(snap["session"] and step["target_s"]) and (
        math.floor(step["elapsed_s"]) > math.floor(step["target_s"]))
    flags = {
        "is-over": over,
        "is-passed": bool(deadline and deadline["passed"]),
        "no-deadline": deadline is None,
        "no-session": snap["session"] is None,
        "no-target": not step["target_s"],
        "no-note": not snap["failures"]["last_note"],
        "can-restore": bool(snap["can_restore"]),
        "no-goal": snap["goal"] is None,
        "is-on-track": _track(snap) == "on track",
        "is-behind": _track(snap) == "behind",
        "no-review": snap["review"] is None,
    }
    return [f"phase-{snap['phase']}", *(name for name, on in flags.items() if on)]


# --- static files: in memory, content-hashed URLs, cached for a year ------------------------


class Asset(NamedTuple):
    body: bytes
    gzipped: bytes
    etag: str
    content_type: str


_TYPES = {".css": "text/css", ".js": "text/javascript"}


@cache
def assets() -> dict[str, Asset]:
    found = {}
    for path in sorted((HERE / "static").iterdir()):
        if path.suffix in _TYPES:
            body = path.read_bytes()
            found[path.name] = Asset(body, gzip.compress(body, 9, mtime=0),
                                     hashlib.sha256(body).hexdigest()[:16], _TYPES[path.suffix])
    return found


def asset_url(name: str) -> str:
    return f"/static/{name}?v={assets()[name].etag}"


async def static(request: web.Request) -> web.Response:
    asset = assets().get(request.match_info["name"])
    if asset is None:
        raise web.HTTPNotFound(text="no such file")
    immutable = request.query.get("v") == asset.etag
    headers = {
        "ETag": f'"{asset.etag}"',
        "Cache-Control": "public, max-age=31536000, immutable" if immutable else "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
    }
    if f'"{asset.etag}"' in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    body = asset.body
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    return web.Response(body=body, content_type=asset.content_type, charset="utf-8", headers=headers)


# --- pages -------------------------------------------------------------------------------


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    env.globals.update(asset=asset_url, field_text=field_text, log_offset=log_offset,
                       confirm_text=confirm_text, overlays=OVERLAYS, themes=THEMES, sizes=SIZES)
    return env


def live_of(request: web.Request) -> Live:
    from .server import LIVE  # not at the top: server imports this module to mount its routes

    return request.app[LIVE]


def _snapshot(request: web.Request) -> dict[str, Any]:
    live = live_of(request)
    return live.snapshot(live.dispatcher.clock())


def render(template: str, status: int = 200, **context: Any) -> web.Response:
    html = environment().get_template(template).render(**context)
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8",
                            headers=HTML_HEADERS)
    response.enable_compression()
    return response


def overlay_page(kind: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        snap = _snapshot(request)
        opts = options(request.query)
        classes = ["so", f"so-{kind}", f"theme-{opts.theme}", f"align-{opts.align}", *root_classes(snap)]
        return render(f"{kind}.html", kind=kind, snap=snap, opts=opts, classes=" ".join(classes))

    return handler


async def control(request: web.Request) -> web.Response:
    snap = _snapshot(request)
    config = live_of(request).config
    needs_token = bool(config.server.token) and not token_ok(request, config.server)
    classes = ["so", "so-control", f"theme-{options(request.query).theme}", *root_classes(snap)]
    return render("control.html", snap=snap, needs_token=needs_token, classes=" ".join(classes),
                  goal=config.goal, history_q=keep_query(request))


def good_token(request: web.Request) -> str:
    """The ?token= a page may pass on in its links: only the right one; a wrong one is never echoed."""
    server = live_of(request).config.server
    given = request.query.get("token", "").strip()
    if not server.token or not hmac.compare_digest(given.encode(), server.token.encode()):
        return ""
    return given


def keep_query(request: web.Request) -> str:
    """The query string for links between the dock and /history: a light theme, the valid token."""
    keep = {"theme": "light"} if options(request.query).theme == "light" else {}
    token = good_token(request)
    if token:
        keep["token"] = token
    return "?" + urlencode(keep) if keep else ""


async def index(request: web.Request) -> web.Response:
    return render("index.html", snap=_snapshot(request), token=good_token(request),
                  needs_token=bool(live_of(request).config.server.token))


def routes() -> list[web.AbstractRouteDef]:
    from .history_pages import history_page, session_page  # they build on this module's helpers

    return [
        web.get("/", index),
        web.get("/overlay/timer", overlay_page("timer")),
        web.get("/overlay/step", overlay_page("step")),
        web.get("/overlay/failures", overlay_page("failures")),
        web.get("/overlay/deadline", overlay_page("deadline")),
        web.get("/overlay/bar", overlay_page("bar")),
        web.get("/control", control),
        web.get("/history", history_page),
        web.get("/history/{number}", session_page),
        web.get("/static/{name}", static),
    ]
