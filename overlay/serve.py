"""`study-overlay serve`: check everything up front, then run until Ctrl+C."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sys
from pathlib import Path

from aiohttp import web

from .background import hotkeys_ctx, obs_ctx
from .config import Config, ConfigError, is_loopback_host, load_config
from .server import build_app
from .storage import Storage, StorageError

OVERLAYS = ("timer", "step", "failures", "deadline", "bar")


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
    return config, Storage(config.storage_path, config.steps)


def serve(config_path: str, *, host: str | None, port: int | None, db: Path | None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    try:
        config, storage = prepare(config_path, host=host, port=port, db=db)
    except StorageError as exc:
        print(f"storage error: {exc}", file=sys.stderr)
        return 2
    app = build_app(config, storage)
    app.cleanup_ctx.extend([hotkeys_ctx, obs_ctx])
    base = config.server.base_url
    token = f"?token={config.server.token}" if config.server.token else ""
    lines = [f"study-overlay serving on {base} (data: {config.storage_path})",
             f"start page:    {base}/", "OBS browser sources (read-only):"]
    lines += [f"  {base}/overlay/{name}" for name in OVERLAYS]
    lines += [f"control dock:  {base}/control{token}", f"state (JSON):  {base}/api/state"]
    try:
        web.run_app(
            app, host=config.server.host, port=config.server.port,
            print=lambda _: print("\n".join(lines), flush=True), access_log=None,
            handle_signals=True, shutdown_timeout=2.0,
        )
    except OSError as exc:
        storage.close()
        print(f"cannot listen on {config.server.host}:{config.server.port}: {exc.strerror}"
              " (is study-overlay already running?)", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass
    return 0
