"""The server's own part of a command, in-process: parse, core, durable SQLite commit, snapshot, hub.

    .venv/bin/python bench/bench_dispatch.py

No HTTP and no browser: what is left of command->DOM latency once the network and other
processes are taken away. Prints median and p99 over 200 `fail` commands (growing snapshots).
"""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from overlay.config import load_config  # noqa: E402
from overlay.core import commands  # noqa: E402
from overlay.runtime.dispatcher import Dispatcher  # noqa: E402
from overlay.runtime.hub import Hub  # noqa: E402
from overlay.runtime.live import Live  # noqa: E402
from overlay.storage.store import Storage  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


async def run(folder: Path) -> list[float]:
    config = load_config(ROOT / "config.yaml")
    config = dataclasses.replace(config, storage_path=folder / "bench.sqlite3")
    storage = Storage(config.storage_path, config.steps)
    live = Live(Dispatcher(config, storage), Hub())
    await live.dispatch(commands.parse({"command": "start"}, config.steps), "http")
    times = []
    for i in range(200):
        t0 = time.perf_counter()
        command = commands.parse({"command": "fail", "note": f"note {i} " * 8}, config.steps)
        await live.dispatch(command, "http")
        times.append((time.perf_counter() - t0) * 1000)
    storage.close()
    return sorted(times)


def main() -> None:
    places = [("disk", Path(tempfile.mkdtemp(dir=ROOT / "bench")))]
    if Path("/dev/shm").is_dir():
        places.append(("tmpfs", Path(tempfile.mkdtemp(dir="/dev/shm"))))
    for name, folder in places:
        ms = asyncio.run(run(folder))
        print(f"one command in-process, database on {name}: median {statistics.median(ms):.2f} ms, "
              f"p99 {ms[int(len(ms) * 0.99) - 1]:.2f} ms over {len(ms)}")
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
