"""Errors a person can act on: JSON for the API, a readable hint for a mistyped page address."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Middleware

from ..runtime.security import Handler, error
from .overlays import render


@web.middleware
async def readable_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if request.path.startswith("/api/"):
            answer = error(exc.status, f"{exc.reason}: {request.method} {request.path[:80]}")
            if "Allow" in exc.headers:  # a 405 says which methods would do
                answer.headers["Allow"] = exc.headers["Allow"]
            return answer
        if exc.status == 404 and request.method in ("GET", "HEAD"):
            # A browser source in OBS shows this: transparent, never a white "404: Not Found" box.
            return render(request, "not_found.html", status=404, path=request.path[:80])
        raise


def slash_redirect() -> Middleware:
    """/overlay/timer/ (a trailing slash pasted with the URL) leads to /overlay/timer."""
    return web.normalize_path_middleware(append_slash=False, remove_slash=True)
