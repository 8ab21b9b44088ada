"""Where a command's time goes inside `serve`: put this folder on PYTHONPATH and the service
records, for every POST, moments from the request's bytes to the answer's, then writes the
medians (ms after the bytes arrived) to $TIMELINE_OUT (default /tmp/timeline.txt) when it stops.

    PYTHONPATH=bench/timeline .venv/bin/study-overlay serve --config config.yaml --port 8931 &
    ...connect a page, send fails (the lab's so-latency.mjs --base http://127.0.0.1:8931 does)...
    kill -INT %1; cat /tmp/timeline.txt

H handler entered, C0/C1 the core, S0/S1 the pages stage (V snapshot, D diff, W frames written),
Q the commit handed over, K0/K1 the commit on the storage thread (fsync included), A the other
stages, E handler returned, X the answer written. It wraps private names: a measuring aid only.
"""

from __future__ import annotations

import atexit
import builtins
import os
import statistics
import sys
import time
from typing import Any

P = time.perf_counter
KEYS = ["H", "C0", "C1", "S0", "V0", "V1", "D0", "D1", "W0", "W1", "S1", "Q0", "Q1", "K0", "K1",
        "A0", "A1", "E", "X"]
cur: dict[str, float] = {}
rows: list[dict[str, float]] = []


def _wrap(owner: Any, name: str, before: str, after: str) -> None:
    orig = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        cur[before] = P()
        try:
            return orig(*args, **kwargs)
        finally:
            cur[after] = P()

    setattr(owner, name, timed)


def _install() -> None:
    import aiohttp.http_writer as hw
    import aiohttp.web_protocol as wp

    import overlay.doors.http.api as api
    import overlay.runtime.dispatcher as disp
    import overlay.runtime.hub as hub
    import overlay.runtime.live as live
    import overlay.storage.store as store

    received = wp.RequestHandler.data_received

    def data_received(self: Any, data: bytes) -> None:
        if data[:4] == b"POST":
            cur.clear()
            cur["R"] = P()
        received(self, data)

    wp.RequestHandler.data_received = data_received  # type: ignore[method-assign]
    post = api.post_command

    async def post_command(request: Any) -> Any:
        cur["H"] = P()
        answer = await post(request)
        cur["E"] = P()
        return answer

    api.post_command = post_command
    _wrap(disp.Dispatcher, "_run", "C0", "C1")
    _wrap(disp.Dispatcher, "_show", "S0", "S1")
    _wrap(disp.Dispatcher, "_after", "A0", "A1")
    _wrap(store.Storage, "commit_soon", "Q0", "Q1")
    _wrap(store.Storage, "commit_sync", "K0", "K1")
    _wrap(hub.Hub, "publish", "W0", "W1")
    _wrap(live.views, "snapshot", "V0", "V1")
    _wrap(live, "diff", "D0", "D1")
    for name in ("_write", "_writelines"):
        orig = getattr(hw.StreamWriter, name)

        def written(self: Any, chunk: Any, _orig: Any = orig) -> Any:
            if "E" in cur and "X" not in cur and "R" in cur:
                cur["X"] = P()
                rows.append(dict(cur))
            return _orig(self, chunk)

        setattr(hw.StreamWriter, name, written)


def _dump() -> None:
    with open(os.environ.get("TIMELINE_OUT", "/tmp/timeline.txt"), "w") as out:
        out.write(f"{len(rows)} commands; medians in ms after the request's bytes arrived\n")
        for key in KEYS:
            values = [r[key] - r["R"] for r in rows if key in r]
            if values:
                out.write(f"{key:3} {statistics.median(values) * 1000:7.3f}\n")


_import = builtins.__import__
_done = False


def _hook(name: str, *args: Any, **kwargs: Any) -> Any:
    """Installs once the service's modules are loaded (serve imports them all before it listens)."""
    global _done
    module = _import(name, *args, **kwargs)
    needed = ("overlay.doors.http.api", "overlay.app", "overlay.storage.store", "overlay.runtime.live")
    if not _done and all(n in sys.modules for n in needed) and hasattr(sys.modules["overlay.app"], "serve"):
        _done = True
        _install()
    return module


builtins.__import__ = _hook
atexit.register(_dump)
