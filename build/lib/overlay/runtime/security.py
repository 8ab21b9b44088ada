"""Who may read and who may command: Host, Origin and token checks."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from ..core.settings import ServerConfig

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _host_name(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def host_allowed(host_header: str | None, server: ServerConfig) -> bool:
    """DNS rebinding needs a host *name*; IP literals and names we know are safe."""
    if not host_header:
        return False
    name = _host_name(host_header)
    if name in ("localhost", *server.allowed_hosts):
        return True
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def origin_ok(request: web.Request) -> bool:
    """No Origin means no browser page is behind it; a page must be our own origin."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin.lower() == f"{request.scheme}://{request.host}".lower()


def presented_token(request: web.Request) -> str:
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query.get("token", "").strip()


def token_ok(request: web.Request, server: ServerConfig) -> bool:
    if not server.token:
        return True
    return hmac.compare_digest(presented_token(request).encode(), server.token.encode())


def command_denied(request: web.Request, server: ServerConfig) -> web.Response | None:
    """The answer for a command that may not run, or None when it may."""
    if not origin_ok(request):
        return error(403, f"commands from origin {request.headers.get('Origin')!r} are refused")
    if not token_ok(request, server):
        if not presented_token(request):
            return error(401, "this server needs its token: add ?token=<server.token> to the "
                              "page's address, or send Authorization: Bearer <server.token>")
        return error(401, "wrong token: the one sent is not this server's server.token "
                          "(config.yaml); check it, or copy the address printed by serve")
    return None


def error(status: int, message: str, **extra: object) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def host_guard(server: ServerConfig) -> Middleware:
    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not host_allowed(request.headers.get("Host"), server):
            return error(403, "unknown Host header; add the name to server.allowed_hosts")
        return await handler(request)

    return guard
