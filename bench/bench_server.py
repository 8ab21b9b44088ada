"""Server benchmarks on this machine; prints figures, asserts nothing.

    .venv/bin/python bench/bench_server.py [--quick]

Measures: cold start to /healthz, resident memory after start, commands per second through
POST /api/commands (each committed to SQLite with synchronous=FULL before the answer), and
the time for one change to reach every one of 1, 100 and 1,000 WebSocket clients.
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


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cold_starts(folder: Path, runs: int) -> tuple[list[float], float]:
    times, rss = [], 0.0
    for i in range(runs):
        port = free_port()
        (folder / f"s{i}").mkdir()
        config = write_config(folder / f"s{i}", port)
        server = ServerProcess(config, port)
        t0 = time.perf_counter()
        server.start()
        times.append(time.perf_counter() - t0)
        assert server.proc is not None
        time.sleep(0.3)
        rss = rss_mb(server.proc.pid)
        server.stop()
    return times, rss


async def command_rate(url: str, total: int, concurrency: int) -> float:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/api/commands", json={"command": "start"}) as r:
            assert r.status == 200
        left = total

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                async with http.post(f"{url}/api/commands", json={"command": "toggle-pause"}) as r:
                    assert r.status == 200, await r.text()

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return total / (time.perf_counter() - t0)


async def fanout(
    url: str, clients: int, changes: int, patches: bool = False, parse: bool = False
) -> tuple[list[float], list[float]]:
    """Per change: ms the server took to hand it to every socket (its /healthz figure), and
    ms from sending the command until this one reader process has it on every socket. With
    `patches`, the sockets ask for patches as pages do (/ws?patch=1)."""
    conn = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=conn) as http:
        async with http.post(f"{url}/api/commands", json={"command": "start"}) as r:
            assert r.status in (200, 409)  # toggle-pause needs a session; one may be running
        where = f"{url}/ws?patch=1" if patches else f"{url}/ws"
        sockets = await asyncio.gather(*(http.ws_connect(where) for _ in range(clients)))
        revs = [json.loads((await ws.receive()).data)["rev"] for ws in sockets]
        rev = max(revs)
        cmd_ws = sockets[0]
        results: list[float] = []
        server_ms: list[float] = []

        async def until(ws: aiohttp.ClientWebSocketResponse, want: int) -> float:
            # A prefix check, not json.loads: at 1,000 sockets the reader's own parsing
            # would otherwise be most of what is measured.
            while True:
                text = (await ws.receive()).data
                if parse:  # as the lab's clients do: every message read as JSON
                    message = json.loads(text)
                    if message.get("type") in ("snapshot", "patch") and message["rev"] >= want:
                        return time.perf_counter()
                    continue
                for prefix in ('{"type":"snapshot","rev":', '{"type":"patch","rev":'):
                    start = len(prefix)
                    if text.startswith(prefix) and int(text[start:text.index(",", start)]) >= want:
                        return time.perf_counter()

        for _ in range(changes):
            rev += 1
            waits = [asyncio.ensure_future(until(ws, rev)) for ws in sockets]
            t0 = time.perf_counter()
            await cmd_ws.send_str(json.dumps({"command": "toggle-pause"}))
            done = await asyncio.gather(*waits)
            results.append((max(done) - t0) * 1000)
            async with http.get(f"{url}/healthz") as r:
                server_ms.append((await r.json())["fanout_ms"])
            await asyncio.sleep(0.02)
        await asyncio.gather(*(ws.close() for ws in sockets))
        return server_ms, results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer runs, for a smoke test")
    args = parser.parse_args()
    runs, commands, changes = (2, 300, 10) if args.quick else (7, 3000, 60)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        starts, rss = cold_starts(folder, runs)
        print(f"cold start to /healthz: median {statistics.median(starts) * 1000:.0f} ms, "
              f"max {max(starts) * 1000:.0f} ms over {runs} starts (target < 400 ms)")
        print(f"resident memory after start: {rss:.1f} MB (target < 45 MB)")
        port = free_port()
        (folder / "main").mkdir()
        server = ServerProcess(write_config(folder / "main", port), port).start()
        try:
            rate = asyncio.run(command_rate(server.url, commands, 8))
            print(f"commands through POST /api/commands, durable: {rate:.0f}/s over {commands} "
                  "(target >= 500/s)")
            print(f"one change to N WebSocket clients, over {changes} changes "
                  "(target: 1000 served, p99 < 25 ms):")
            for patches, parse in ((False, False), (True, False), (False, True), (True, True)):
                kind = "patches, as pages take them (/ws?patch=1)" if patches else "full snapshots (/ws)"
                how = ", each read as JSON (as the lab's clients do)" if parse else ""
                print(f"  {kind}{how}:")
                for n in (1, 100, 1000):
                    served, seen = asyncio.run(fanout(server.url, n, changes, patches, parse))
                    print(f"  {n:>4} clients: server wrote it to all in median "
                          f"{statistics.median(served):.2f} ms,"
                          f" p99 {pct(served, 99):.2f} ms; command to last socket read by one reader"
                          f" process: median {statistics.median(seen):.2f} ms, p99 {pct(seen, 99):.2f} ms")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
