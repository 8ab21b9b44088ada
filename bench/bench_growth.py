"""Does a command cost more late in a long session? `POST fail` against a real `serve`, and the
bytes a change sends, at 30 to 2,030 failures with 280-character notes.

    .venv/bin/python bench/bench_growth.py [--quick]

For each size: the session is filled to it through the same API, then the median and p90 of the
next 100 `POST /api/commands {"command": "fail"}` answered (fsync included), and the bytes of one
change as a full snapshot (`/ws`) and as a patch (`/ws?patch=1`, what pages take).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.procs import ServerProcess, free_port, write_config  # noqa: E402

NOTE = "x" * 270


async def change(ws: aiohttp.ClientWebSocketResponse) -> str:
    """The next snapshot or patch (a beat is no change)."""
    while True:
        text = (await ws.receive()).data
        if '"type":"beat"' not in text:
            return str(text)


async def measure(url: str, sizes: list[int], runs: int) -> list[tuple[int, float, float, int, int | None]]:
    rows = []
    async with aiohttp.ClientSession() as http:
        async def fail(i: int) -> float:
            t0 = time.perf_counter()
            note = f"{i:09d} {NOTE}"
            async with http.post(f"{url}/api/commands", json={"command": "fail", "note": note}) as r:
                assert r.status == 200, await r.text()
                await r.read()
            return (time.perf_counter() - t0) * 1000

        async with http.post(f"{url}/api/commands", json={"command": "start"}) as r:
            assert r.status == 200
        done = 0
        for size in sizes:
            while done < size:
                await fail(done)
                done += 1
            times = []
            for _ in range(runs):
                times.append(await fail(done))
                done += 1
            async with http.ws_connect(f"{url}/ws", max_msg_size=0) as full, \
                    http.ws_connect(f"{url}/ws?patch=1", max_msg_size=0) as patched:
                await change(full), await change(patched)
                for _ in range(2):  # the first change after connecting is sent in full to both
                    await fail(done)
                    done += 1
                    full_bytes = len((await change(full)).encode())
                    message = await change(patched)
                # A service without patches (an older one, measured for comparison) sends snapshots.
                patch_bytes = len(message.encode()) if json.loads(message)["type"] == "patch" else None
            times.sort()
            p90 = times[int(len(times) * 0.9) - 1]
            rows.append((size, statistics.median(times), p90, full_bytes, patch_bytes))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="30 and 530 failures, 30 commands each")
    args = parser.parse_args()
    sizes, runs = ([30, 530], 30) if args.quick else ([30, 130, 530, 1030, 2030], 100)
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = ServerProcess(write_config(Path(tmp), port), port).start()
        try:
            rows = asyncio.run(measure(server.url, sizes, runs))
        finally:
            server.stop()
    print("| failures in this session | POST fail median / p90 (ms) | one change: snapshot / patch (bytes) |")
    print("|---|---|---|")
    for failures, median, p90, full, patch in rows:
        shown = f"{patch:,}" if patch is not None else "none (snapshots only)"
        print(f"| {failures:,} | {median:.2f} / {p90:.2f} | {full:,} / {shown} |")


if __name__ == "__main__":
    main()
