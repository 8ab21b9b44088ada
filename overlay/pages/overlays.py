"""HTML pages: overlays for OBS browser sources, the control dock, and the index linking them.

Every page carries the current snapshot as JSON; overlay.js paints it at once, then keeps it
live from the socket with the same code. The display rules live there only.
"""

from __future__ import annotations

import hmac
import math
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from aiohttp import web

from ..core.sound import CUES
from ..i18n import Language, language, pick, texts
from ..runtime.live import LIVE, Live
from ..runtime.security import presented_token, token_ok

HERE = Path(__file__).resolve().parent
OVERLAYS = ("timer", "step", "failures", "deadline", "bar")
THEMES = ("dark", "light", "plain")
ALIGNS = ("left", "center", "right")
SCALE_RANGE = (0.25, 4.0)
# Recommended OBS browser-source sizes at scale=1: each overlay's box, whose size overlay.css fixes
# (--so-w, --so-h) whatever the state, plus the page's padding; ?align= places it in a wider source.
SIZES = {"timer": (456, 162), "step": (736, 262), "failures": (496, 218), "deadline": (456, 168),
         "bar": (1920, 132)}
_HEX = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
HTML_HEADERS = {
    "Cache-Control": "no-store",  # the HTML carries live values; the assets it links are cached
    "Content-Security-Policy": "script-src 'self'; object-src 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


# --- query options -----------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    theme: str = "dark"
    scale: float = 1.0
    accent: str | None = None
    align: str = "left"
    sound: bool = False  # ?sound=on: this page plays the cues too (one sound source is better)

    @property
    def style(self) -> str:
        """CSS custom properties for the root element (every value is validated)."""
        parts = [f"--so-scale:{self.scale:g}"] if self.scale != 1.0 else []
        if self.accent:
            parts.append(f"--so-accent:{self.accent}")
        return ";".join(parts)


def options(query: Mapping[str, str]) -> Options:
    """?theme=, ?scale=, ?accent=, ?align=, ?sound=on; a bad value falls back to the default."""
    theme = query.get("theme", "").lower()
    align = query.get("align", "").lower()
    return Options(
        theme=theme if theme in THEMES else "dark",
        scale=_scale(query.get("scale", "")),
        accent=_accent(query.get("accent", "")),
        align=align if align in ALIGNS else "left",
        sound=query.get("sound", "").lower() in ("on", "1", "true", "yes"),
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


# --- static files: aiohttp's own (versioned URLs, ETag/304, the .gz beside each file) ------


STATIC = HERE / "static"
_VERSIONED = "public, max-age=31536000, immutable"


def static_route() -> web.AbstractRouteDef:
    return web.static("/static", STATIC, append_version=True, name="static")


ASSET_URLS = web.AppKey("asset_urls", dict[str, str])


def asset_url(request: web.Request, name: str) -> str:
    """/static/NAME?v=HASH: cached for a year, since a changed file gets a new URL."""
    return request.app[ASSET_URLS][name]


def cache_static(app: web.Application) -> None:
    """A versioned URL never changes its content; anything else is checked each time.

    aiohttp hashes a file each time it builds its versioned URL; the files do not change while
    the service runs, so each URL is built once here.
    """
    resource = app.router["static"]
    app[ASSET_URLS] = {
        path.name: str(resource.url_for(filename=path.name))
        for path in STATIC.iterdir() if path.suffix in (".css", ".js")
    }

    async def headers(request: web.Request, response: web.StreamResponse) -> None:
        if request.path.startswith("/static/"):
            response.headers["Cache-Control"] = _VERSIONED if "v" in request.query else "no-cache"
            response.headers["X-Content-Type-Options"] = "nosniff"

    app.on_response_prepare.append(headers)


# --- pages -------------------------------------------------------------------------------


@cache
def environment(code: str = "en") -> jinja2.Environment:
    """Templates in one language: {{ _("text") }} and {% trans %} come from its catalog."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    lang = language(code)
    env.install_gettext_translations(lang.translations, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(overlays=OVERLAYS, themes=THEMES, sizes=SIZES, lang=lang)
    return env


def page_language(request: web.Request) -> Language:
    """?lang=it on any page, else config.yaml's language:; an unknown code falls back to English."""
    wanted = request.query.get("lang")
    return language(pick(wanted) if wanted else live_of(request).config.language)


def live_of(request: web.Request) -> Live:
    return request.app[LIVE]


def _snapshot(request: web.Request) -> dict[str, Any]:
    live = live_of(request)
    return live.page_snapshot(live.dispatcher.clock())


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    html = environment(page_language(request).code).get_template(template).render(
        asset=lambda name: asset_url(request, name), **context)
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8",
                            headers=HTML_HEADERS)
    response.enable_compression()
    return response


def overlay_page(kind: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        snap = _snapshot(request)
        opts = options(request.query)
        classes = ["so", f"so-{kind}", f"theme-{opts.theme}", f"align-{opts.align}"]
        return render(request, f"{kind}.html", kind=kind, snap=snap, opts=opts, classes=" ".join(classes))

    return handler


# The files whose messages the dock's script may have to show: its own words, the refusals of
# every command (core), the outside parts' status (OBS link, hotkeys) and the service's errors.
DOCK_WORDS = ("overlay.js", "control.js", "refusal.py", "session.py", "focus.py", "sound.py", "undo.py",
              "texts.py", "live.py", "app.py", "link.py", "listener.py", "door.py", "auth.py", "eventsub.py",
              "helix.py")


async def control(request: web.Request) -> web.Response:
    snap = _snapshot(request)
    config = live_of(request).config
    needs_token = ""  # or why this page cannot send commands: "missing" or "wrong"
    if config.server.token and not token_ok(request, config.server):
        needs_token = "wrong" if presented_token(request) else "missing"
    classes = ["so", "so-control", f"theme-{options(request.query).theme}"]
    return render(request, "control.html", snap=snap, needs_token=needs_token, classes=" ".join(classes),
                  goal=config.goal, history_q=keep_query(request), words=DOCK_WORDS,
                  opts=options(request.query), cues=CUES)


def good_token(request: web.Request) -> str:
    """The ?token= a page may pass on in its links: only the right one; a wrong one is never echoed."""
    server = live_of(request).config.server
    given = request.query.get("token", "").strip()
    if not server.token or not hmac.compare_digest(given.encode(), server.token.encode()):
        return ""
    return given


def keep_query(request: web.Request) -> str:
    """The query string for links between the dock and /history: a light theme, the language, the
    valid token."""
    keep = {"theme": "light"} if options(request.query).theme == "light" else {}
    if "lang" in request.query:
        keep["lang"] = page_language(request).code
    token = good_token(request)
    if token:
        keep["token"] = token
    return "?" + urlencode(keep) if keep else ""


async def index(request: web.Request) -> web.Response:
    snap = _snapshot(request)
    return render(request, "index.html", snap=snap, phase=texts.phase(page_language(request), snap["phase"]),
                  token=good_token(request),
                  needs_token=bool(live_of(request).config.server.token))
