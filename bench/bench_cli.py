"""Wall time of `study-overlay next` against a running server: what a hotkey tool waits for.

    .venv/bin/python bench/bench_cli.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.procs import ServerProcess, free_port, post, write_config  # noqa: E402

RUNS = 20


def main() -> None:
    exe = Path(sys.executable).with_name("study-overlay")
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        config = write_config(Path(tmp), port)
        server = ServerProcess(config, port).start()
        try:
            post(server.url, {"command": "start"})
            times = []
            for _ in range(RUNS):
                t0 = time.perf_counter()
                done = subprocess.run([str(exe), "--config", str(config), "next"], capture_output=True)
                times.append((time.perf_counter() - t0) * 1000)
                assert done.returncode == 0, done.stderr
                post(server.url, {"command": "prev"})
        finally:
            server.stop()
    print(f"`study-overlay next` wall time: median {statistics.median(times):.0f} ms, "
          f"min {min(times):.0f} ms, max {max(times):.0f} ms over {RUNS} runs (target < 150 ms)")


if __name__ == "__main__":
    main()
