"""The floor: the least an aiohttp service can do on the lab's paths, to know what a ratio asks.

It keeps the lab's contract (`POST /api/commands` start/fail, `GET /api/state`, `/healthz`,
`/ws` snapshots, `/overlay/failures` with the two watched fields) and does nothing else: no
core, no storage (or, with FLOOR_SYNC=1, one appended line and one fdatasync per command, the
least a durable answer costs), a small JSON snapshot written straight onto every socket. Run the
lab's scripts against it to see the figures no real service on this stack and machine can beat:

    .venv/bin/python bench/floor_server.py serve --port 8940 --db /tmp/floor/x.db &
    node <lab>/compare/so-latency.mjs --base http://127.0.0.1:8940 --bumps 200 --out floor.json
    # fan-out: the lab starts its own server, so give it a launcher with study-overlay's arguments
    printf '#!/bin/sh\\nexec %s/.venv/bin/python %s/bench/floor_server.py "$@"\\n' \\
        "$PWD" "$PWD" > /tmp/floor-bin && chmod +x /tmp/floor-bin
    SO_BIN=/tmp/floor-bin SO_CONFIG=config.yaml node <lab>/compare/so-fanout.mjs --late-rss-s 1 --out fan.json

FLOOR_PAD=N adds an N-character string to the snapshot, to see what its size alone costs.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from aiohttp import web

PAGE = """<!doctype html><meta charset=utf-8>
<div data-field="failures.session"></div><div data-field="failures.last_note"></div>
<script>
const count = document.querySelector('[data-field="failures.session"]');
const note = document.querySelector('[data-field="failures.last_note"]');
const ws = new WebSocket("ws://" + location.host + "/ws");
ws.onmessage = (e) => {
  const m = JSON.parse(e.data);
  count.textContent = m.failures.session;
  note.textContent = m.failures.last_note || "";
};
</script>"""


def frame(text: str) -> bytes:
    """A final, unmasked text frame, as a server sends it."""
    data = text.encode()
    n = len(data)
    if n < 126:
        return bytes((0x81, n)) + data
    if n < 1 << 16:
        return bytes((0x81, 126)) + n.to_bytes(2, "big") + data
    return bytes((0x81, 127)) + n.to_bytes(8, "big") + data


TRANSPORTS = web.AppKey("transports", dict)


def build(folder: Path, sync: bool, pad: str) -> web.Application:
    st: dict[str, Any] = {"rev": 0, "phase": "idle", "session": 0, "last_note": None}
    sockets: set[web.WebSocketResponse] = set()
    fd = os.open(folder / "floor.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND)

    def snapshot() -> dict[str, Any]:
        snap = {"type": "snapshot", "rev": st["rev"], "phase": st["phase"],
                "failures": {"session": st["session"], "last_note": st["last_note"]}}
        return snap | ({"pad": pad} if pad else {})

    async def command(request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("command") == "start":
            st["phase"] = "running"
        elif body.get("command") == "fail":
            st["session"] += 1
            st["last_note"] = body.get("note")
        st["rev"] += 1
        text = json.dumps(snapshot())
        wire = frame(text)
        for ws in list(sockets):
            transport = request.app[TRANSPORTS].get(ws)
            if transport is not None and not transport.is_closing():
                transport.write(wire)
        if sync:  # on the loop, blocking it: the least a durable answer can cost, nothing else
            os.write(fd, text.encode() + b"\n")
            os.fdatasync(fd)
        return web.Response(text=text, content_type="application/json")

    async def state(request: web.Request) -> web.Response:
        return web.json_response(snapshot())

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def socket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        assert request.transport is not None
        # The snapshot, then every change: no await between the two, so none is missed.
        request.transport.write(frame(json.dumps(snapshot())))
        sockets.add(ws)
        request.app[TRANSPORTS][ws] = request.transport
        try:
            async for _ in ws:
                pass
        finally:
            sockets.discard(ws)
            request.app[TRANSPORTS].pop(ws, None)
        return ws

    app = web.Application()
    app[TRANSPORTS] = {}
    app.add_routes([
        web.post("/api/commands", command), web.get("/api/state", state), web.get("/healthz", healthz),
        web.get("/overlay/failures", page), web.get("/ws", socket),
    ])
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("serve", nargs="?")  # study-overlay's shape, so the lab can start it
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--db", required=True)
    parser.add_argument("--config")  # accepted and ignored
    args = parser.parse_args()
    folder = Path(args.db).parent
    folder.mkdir(parents=True, exist_ok=True)
    app = build(folder, os.environ.get("FLOOR_SYNC") == "1", "x" * int(os.environ.get("FLOOR_PAD", "0")))
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
