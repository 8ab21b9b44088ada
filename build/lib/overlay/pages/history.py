"""/history and /history/{number}: past sessions, failures per day, step times and deadline pacing.

Server-rendered HTML with inline SVG charts and no script, readable in a browser tab and in a
narrow OBS dock. The SQLite file is read on a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import date, datetime, tzinfo
from typing import Any, TypeVar

from aiohttp import web

from ..core.display import clock, delta
from ..i18n import Language, texts
from ..runtime import recap
from ..storage import history
from ..storage.store import StorageError
from . import charts
from .overlays import keep_query, live_of, options, page_language, render

T = TypeVar("T")


class _Words:
    """Dates, times and figures in the page's language and the config's time zone."""

    def __init__(self, lang: Language, tz: tzinfo | None) -> None:
        self.lang, self.tz = lang, tz

    def local(self, text: str) -> datetime:
        return history.local(datetime.fromisoformat(text), self.tz)

    def at(self, text: str | None) -> str:
        return texts.moment(self.lang, self.local(text)) if text else ""

    def hm(self, text: str) -> str:
        return self.local(text).strftime("%H:%M")

    def same_day(self, a: str, b: str) -> bool:
        return self.local(a).date() == self.local(b).date()

    def day(self, d: date) -> str:
        return texts.day(self.lang, d)

    def tick(self, d: date) -> str:
        return texts.short_day(self.lang, d)

    def outcome(self, name: str) -> str:
        return texts.outcome(self.lang, name)

    def needed(self, goal: dict[str, Any]) -> str:
        return texts.needed(self.lang, goal)

    def so_far(self, goal: dict[str, Any]) -> str:
        return texts.pace_so_far(self.lang, goal)

    def summary(self, goal: dict[str, Any]) -> str:
        return texts.goal_summary(self.lang, goal)

    def units(self, goal: dict[str, Any], n: int) -> str:
        return texts.units(goal, n)


def _duration(seconds: float | None) -> str:
    return clock(int(seconds or 0))


def _page(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    live = live_of(request)
    theme = options(request.query).theme
    return render(
        request, template, status=status, theme="light" if theme == "light" else "dark",
        q=keep_query(request), w=_Words(page_language(request), live.config.timezone),
        duration=_duration, delta=delta, **context,
    )


async def _read(request: web.Request, read: Callable[..., T], *args: Any) -> T | web.Response:
    try:
        return await asyncio.to_thread(read, *args)
    except (StorageError, sqlite3.Error) as exc:
        lang = page_language(request)
        return _page(request, "history_error.html", status=503, title=lang("History unavailable"),
                     message=lang("Cannot read the history: %(reason)s", reason=exc))


async def history_page(request: web.Request) -> web.Response:
    live = live_of(request)
    now = live.dispatcher.clock()
    data = await _read(request, history.history, live.config.storage_path, live.config,
                       live.dispatcher.state, now)
    if isinstance(data, web.Response):
        return data
    kept = [s for s in reversed(data["recent"]) if s["outcome"] != "reset"]
    deadline = live.config.deadline
    return _page(
        request, "history.html", h=data, goal=data["goal"], days=charts.failures_per_day(data["days"]),
        steps=charts.step_times(kept), deadline=deadline,
        deadline_text=texts.days_text(page_language(request), (deadline.at - now).total_seconds())
        if deadline else "",
    )


async def recap_page(request: web.Request) -> web.Response:
    """/history/N/recap: the long recap as Markdown text, to copy into notes or a blog."""
    found = await _recap(request)
    if isinstance(found, web.Response):
        return found
    data, lang = found
    text = recap.markdown(data, live_of(request).config.timezone, lang)
    return web.Response(text=text, content_type="text/markdown", charset="utf-8",
                        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


async def recap_api(request: web.Request) -> web.Response:
    """GET /api/sessions/N/recap: both forms, for the dock's Copy button."""
    found = await _recap(request)
    if isinstance(found, web.Response):
        return found
    data, lang = found
    return web.json_response({"number": data["session"]["number"], "short": recap.short(data, lang),
                              "markdown": recap.markdown(data, live_of(request).config.timezone, lang)})


async def _recap(request: web.Request) -> tuple[dict[str, Any], Language] | web.Response:
    text = request.match_info["number"]
    lang = page_language(request)
    if not text.isascii() or not text.isdecimal() or len(text) > 9:
        return web.json_response({"error": "a session number is a whole number"}, status=400)
    live = live_of(request)
    data = await _read(request, recap.gather, live.config.storage_path, live.config, int(text),
                       live.dispatcher.clock())
    if isinstance(data, web.Response):
        return data
    if data is None:
        return web.json_response({"error": f"there is no session {int(text)}"}, status=404)
    return data, lang


async def session_page(request: web.Request) -> web.Response:
    text = request.match_info["number"]
    lang = page_language(request)
    if not text.isascii() or not text.isdecimal() or len(text) > 9:
        return _page(request, "history_error.html", status=400, title=lang("Not a session number"),
                     message=lang("A session number is a whole number, like /history/3."))
    number = int(text)
    live = live_of(request)
    now = live.dispatcher.clock()
    detail = await _read(request, history.read_session, live.config.storage_path, live.config, number, now)
    if isinstance(detail, web.Response):
        return detail
    if detail is None:
        return _page(request, "history_error.html", status=404,
                     title=lang("No session %(number)s", number=number),
                     message=lang("There is no session %(number)s in the history.", number=number))
    started = datetime.fromisoformat(detail["started_at"])
    for f in detail["failure_log"]:
        since = (datetime.fromisoformat(f["at"]) - started).total_seconds()
        f["offset"] = "+" + clock(max(0, int(since)))
    top = max([1.0, *(max(st["elapsed_s"] or 0, st["target_s"] or 0) for st in detail["steps"])])
    return _page(request, "session.html", s=detail, top=top)
