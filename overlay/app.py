"""The running service, owned in one place: dispatcher, hub, OBS link, hotkeys, and the routes.

`study-overlay serve` lands here: check everything up front, then run until Ctrl+C.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import json
import logging
import sys
import urllib.request
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

from aiohttp import web

from .config import ConfigError, load_config
from .core.settings import Config, ServerConfig, is_loopback_host
from .doors.hotkeys.door import hotkey_service
from .doors.http import api
from .doors.obs.door import ObsPart
from .doors.twitch import http as twitch_http
from .doors.twitch.door import TwitchDoor
from .i18n import N_, Said, language
from .pages import errors, history, overlays, sounds
from .runtime.boundary import BOUNDARIES, BoundaryClock
from .runtime.dispatcher import Dispatcher, utc_now
from .runtime.hub import Hub
from .runtime.live import LIVE, Live
from .runtime.security import host_guard
from .setup import page as setup
from .storage.store import Storage, StorageError
from .storage.tokens import LoginStore


def routes() -> list[web.AbstractRouteDef]:
    """Every route of the service, top to bottom."""
    return [
        web.get("/", overlays.index),
        *(web.get(f"/overlay/{kind}", overlays.overlay_page(kind)) for kind in overlays.OVERLAYS),
        web.get("/overlay/sound", sounds.sound_page),
        web.get("/sounds/{cue}", sounds.sound_file),
        web.get("/control", overlays.control),
        web.get("/setup", setup.setup_page),
        web.get("/api/setup", setup.get_setup),
        web.post("/api/setup/obs/test", setup.test_obs),
        web.post("/api/setup/obs", setup.save_obs),
        web.post("/api/setup/scenes", setup.scenes),
        web.post("/api/setup/routine", setup.save_routine),
        web.post("/api/setup/hotkeys/check", setup.check_hotkeys),
        web.post("/api/twitch/login", twitch_http.begin_login),
        web.post("/api/twitch/reload", twitch_http.login_changed),
        web.get("/history", history.history_page),
        web.get("/history/{number}", history.session_page),
        web.get("/history/{number}/recap", history.recap_page),
        web.get("/api/sessions/{number}/recap", history.recap_api),
        web.get("/healthz", api.healthz),
        web.get("/api/state", api.get_state),
        web.get("/api/history", api.get_history),
        web.get("/api/sessions/{number}", api.get_session),
        web.post("/api/commands", api.post_command),
        web.get("/ws", api.websocket),
        overlays.static_route(),
    ]


def build_app(
    config: Config, storage: Storage, *, clock: Callable[[], datetime] = utc_now,
    outside: bool = False,
) -> web.Application:
    """The aiohttp app; with `outside`, the hotkeys and the OBS link start and stop with it."""
    app = web.Application(
        middlewares=[host_guard(config.server), errors.readable_errors, errors.slash_redirect()],
        client_max_size=api.MAX_BODY,
    )
    hub = Hub()
    live = Live(Dispatcher(config, storage, clock), hub)
    app[LIVE] = live
    app[setup.SAVING] = asyncio.Lock()
    app.add_routes(routes())
    overlays.cache_static(app)
    app.on_shutdown.append(lambda _app: hub.close_all())
    app.cleanup_ctx.extend([_close_storage(storage), _refresh(live), _boundaries(live)])
    if outside:
        app.cleanup_ctx.extend([_hotkeys(live), _obs(live), _twitch(live)])
    return app


def _hotkeys(live: Live) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        if not live.config.hotkeys.enabled:
            off = Said(N_("hotkeys.enabled is false"))
            live.set_status("hotkeys", {"state": "off", "reason": off, "words": off.words(), "confirm": None})
            yield
            return
        service = app[setup.HOTKEYS] = hotkey_service(live)
        await service.start()
        live.set_status("hotkeys", service.status.to_dict())
        yield
        await service.stop()

    return ctx


def _twitch(live: Live) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        door = app[twitch_http.TWITCH] = TwitchDoor(live, LoginStore(live.config.storage_path))
        await door.start()
        yield
        await door.stop()

    return ctx


def _obs(live: Live) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        part = app[setup.OBS] = ObsPart(live)
        await part.start()
        yield
        await part.stop()

    return ctx


BEAT_S = 10.0  # pages mark themselves offline after 25 s without a word
REFRESH_S = 600.0  # pages tick clocks themselves; only pacing text needs a nudge now and then
BEAT = json.dumps({"type": "beat"})


def _refresh(live: Live) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            deadline = live.config.deadline
            checked = live.dispatcher.clock()
            next_refresh = asyncio.get_running_loop().time() + REFRESH_S
            while True:
                await asyncio.sleep(BEAT_S)
                now = live.dispatcher.clock()
                crossed = deadline is not None and checked < deadline.at <= now
                checked = now
                if crossed or asyncio.get_running_loop().time() >= next_refresh:
                    live.republish()  # also right after the deadline: pacing turns to "past"
                    next_refresh = asyncio.get_running_loop().time() + REFRESH_S
                else:
                    live.hub.beat(BEAT)

        task = asyncio.create_task(loop())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return ctx


def _boundaries(live: Live) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        clock = app[BOUNDARIES] = BoundaryClock(live)
        clock.start()
        yield
        await clock.stop()

    return ctx


def _close_storage(storage: Storage) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        yield
        storage.close()

    return ctx


def prepare(
    config_path: str, *, host: str | None, port: int | None, db: Path | None
) -> tuple[Config, Storage]:
    """Load config, apply overrides, refuse unsafe binds, open storage. Raises ConfigError/StorageError."""
    config = load_config(config_path)
    server = dataclasses.replace(
        config.server,
        host=host if host is not None else config.server.host,
        port=port if port is not None else config.server.port,
    )
    if not is_loopback_host(server.host) and not server.token:
        raise ConfigError(
            f"server.host is {server.host!r}, reachable beyond this machine, but server.token "
            "is empty: set server.token (a long random text) to bind beyond loopback"
        )
    config = dataclasses.replace(config, server=server, storage_path=db or config.storage_path)
    storage = Storage(config.storage_path, config.steps)
    storage.lock.describe({"url": server.base_url})  # a second `serve` names us
    return config, storage


def serve(config_path: str, *, host: str | None, port: int | None, db: Path | None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    try:
        config, storage = prepare(config_path, host=host, port=port, db=db)
        first = storage.load()[1] == 0  # nothing was ever done with this database
        app = build_app(config, storage, outside=True)  # reads the state back from the file
    except StorageError as exc:
        print(f"storage error: {exc}", file=sys.stderr)
        return 2
    base = config.server.base_url
    token = f"?token={config.server.token}" if config.server.token else ""
    lang = language(config.language)
    labels = [lang("start page:"), lang("set up:"), lang("control dock:"), lang("state (JSON):")]
    start, set_up, dock, state = (label.ljust(max(map(len, labels)) + 1) for label in labels)
    lines = [lang("study-overlay serving on %(url)s (data: %(path)s)", url=base, path=config.storage_path)]
    if first:
        lines.append(lang("First start: open %(url)s to connect OBS and set up your routine.",
                          url=f"{base}/setup{token}"))
    lines += [f"{start}{base}/", f"{set_up}{base}/setup{token}", lang("OBS browser sources (read-only):")]
    lines += [f"  {base}/overlay/{name}" for name in (*overlays.OVERLAYS, "sound")]
    lines += [f"{dock}{base}/control{token}", f"{state}{base}/api/state"]
    try:
        web.run_app(
            app, host=config.server.host, port=config.server.port,
            print=lambda _: print("\n".join(lines), flush=True), access_log=None,
            handle_signals=True, shutdown_timeout=2.0,
        )
    except OSError as exc:
        storage.close()
        print(f"cannot listen on {config.server.host}:{config.server.port}: "
              f"{_listen_hint(exc, config.server)}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass
    return 0


def _listen_hint(exc: OSError, server: ServerConfig) -> str:
    """Why the port cannot be had, and what to do; a guess only where we can check it."""
    other = "pick another with --port N, or server.port in config.yaml"
    if exc.errno == errno.EADDRINUSE:
        if _is_study_overlay(server.base_url):
            return (f"a study-overlay service with another database already serves {server.base_url}; "
                    f"open that one, or {other}")
        return f"port {server.port} is taken by another program; {other}"
    if exc.errno == errno.EACCES:
        return f"port {server.port} needs privileges this user lacks; {other} (1024 or above)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return (f"{server.host} is not an address of this machine; use 127.0.0.1, or set "
                "server.host (or --host) to one of its addresses")
    return f"{exc.strerror or exc}; {other}"


def _is_study_overlay(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/healthz", timeout=1.0) as answer:
            data = json.loads(answer.read())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and {"ok", "rev", "status_rev"} <= data.keys()
