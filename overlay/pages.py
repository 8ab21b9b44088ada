"""HTML pages: overlays for OBS browser sources and the control dock."""

from __future__ import annotations

from aiohttp import web


def routes() -> list[web.AbstractRouteDef]:
    return []
