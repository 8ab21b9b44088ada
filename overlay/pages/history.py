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

from ..core.display import clock, days_text, delta, plural
from ..storage import history
from ..storage.store import StorageError
from . import charts
from .overlays import keep_query, live_of, options, render

T = TypeVar("T")
OUTCOMES = {"finished": "finished", "running": "in progress", "paused": "paused", "reset": "reset"}


def _shown_in(tz: tzinfo | None) -> Callable[[str | None, str], str]:
    def at(text: str | None, fmt: str = "%a %d %b %Y, %H:%M") -> str:
        return history.local(datetime.fromisoformat(text), tz).strftime(fmt) if text else ""

    return at


def _day(d: date) -> str:
    return d.strftime("%a %d %b")


def _duration(seconds: float | None) -> str:
    return clock(int(seconds or 0))


def _page(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    live = live_of(request)
    theme = options(request.query).theme
    return render(
        request, template, status=status, theme="light" if theme == "light" else "dark",
        q=keep_query(request),
        at=_shown_in(live.config.timezone), day=_day, duration=_duration, delta=delta,
        plural=plural, outcomes=OUTCOMES, **context,
    )


async def _read(request: web.Request, read: Callable[..., T], *args: Any) -> T | web.Response:
    try:
        return await asyncio.to_thread(read, *args)
    except (StorageError, sqlite3.Error) as exc:
        return _page(request, "history_error.html", status=503, title="History unavailable",
                     message=f"Cannot read the history: {exc}")


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
        deadline_text=days_text((deadline.at - now).total_seconds()) if deadline else "",
    )


async def session_page(request: web.Request) -> web.Response:
    text = request.match_info["number"]
    if not text.isascii() or not text.isdecimal() or len(text) > 9:
        return _page(request, "history_error.html", status=400, title="Not a session number",
                     message="A session number is a whole number, like /history/3.")
    number = int(text)
    live = live_of(request)
    now = live.dispatcher.clock()
    detail = await _read(request, history.read_session, live.config.storage_path, live.config, number, now)
    if isinstance(detail, web.Response):
        return detail
    if detail is None:
        return _page(request, "history_error.html", status=404, title=f"No session {number}",
                     message=f"There is no session {number} in the history.")
    started = datetime.fromisoformat(detail["started_at"])
    for f in detail["failure_log"]:
        since = (datetime.fromisoformat(f["at"]) - started).total_seconds()
        f["offset"] = "+" + clock(max(0, int(since)))
    top = max([1.0, *(max(st["elapsed_s"] or 0, st["target_s"] or 0) for st in detail["steps"])])
    return _page(request, "session.html", s=detail, top=top)
