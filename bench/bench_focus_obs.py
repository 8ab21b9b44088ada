"""A 50/10 session of four focus cycles (a long break of 30 after the fourth) against a real OBS,
time scaled down (default 1/60: a minute lasts a second). Prints each scene switch OBS reported
to an independent client, with the moment the service's snapshot fixed for it.

Run: .venv/bin/python bench/bench_focus_obs.py [--scale 60]
"""

from __future__ import annotations

import argparse
import queue
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.obs_harness import missing_tools, running_obs, scene_events  # noqa: E402
from tests.procs import ServerProcess, free_port, post, wait_for, write_obs_config  # noqa: E402

SCENES = ["Review", "Lecture", "Lecture (practice)", "Reading", "Questionnaire", "Project", "Break",
          "Finished", "Elsewhere"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=60.0, help="how many times faster than real")
    args = parser.parse_args()
    if missing_tools():
        print(f"skipped: missing {', '.join(missing_tools())}")
        return 0
    work, brk, long_break = (round(m * 60 / args.scale, 3) for m in (50, 10, 30))
    # Focus, break, focus, break, focus, break, focus, long break, then the fifth focus.
    plan = [("focus", work), ("break", brk)] * 3 + [("focus", work), ("long break", long_break)]
    with tempfile.TemporaryDirectory() as tmp, running_obs(SCENES) as (_xvfb, obs):
        obs.wait_ready()
        obs.switch_and_settle("Elsewhere")
        port = free_port()
        ms = [round(x * 1000) for x in (work, brk, long_break)]
        path = write_obs_config(Path(tmp), port, obs.port, obs.password,
                                f"focus: {{work: {ms[0]}ms, break: {ms[1]}ms, long_break: {ms[2]}ms, "
                                "long_every: 4, auto: true}\n")
        server = ServerProcess(path, port).start()
        try:
            wait_for(lambda: server.state()["obs"]["state"] == "connected", "link connected")
            with scene_events(obs.port, obs.password) as seen:
                switches: list[tuple[float, str]] = []
                done = threading.Event()

                def drain() -> None:
                    while not done.is_set():
                        try:
                            switches.append((time.time(), seen.get(timeout=0.1)))
                        except queue.Empty:
                            continue

                reader = threading.Thread(target=drain, daemon=True)
                reader.start()
                _, snap = post(server.url, {"command": "start"})
                started = datetime.fromisoformat(snap["session"]["started_at"]).timestamp()
                total = sum(s for _, s in plan)
                wait_for(lambda: len(switches) >= len(plan) + 1, "every switch", timeout=total + 30)
                done.set()
                reader.join(2)
        finally:
            server.stop()
    print(f"focus {work} s, break {brk} s, long break {long_break} s, long every 4 "
          f"(50m/10m/30m at 1/{args.scale:g}); times from `start`")
    print(f"{'phase begins':<16}{'due at':>10}{'OBS switched':>14}{'late':>10}  scene   (at real speed)")
    due = 0.0
    for i, (at, scene) in enumerate(switches[: len(plan) + 1]):
        name = ["focus 1", "break 1", "focus 2", "break 2", "focus 3", "break 3", "focus 4",
                "long break", "focus 5"][i]
        late = at - started - due
        real = due * args.scale
        print(f"{name:<16}{due:>9.2f}s{at - started:>13.2f}s{late * 1000:>8.0f}ms  {scene:<8}"
              f"({int(real // 3600)}:{int(real % 3600 // 60):02d}:{int(real % 60):02d})")
        if i < len(plan):
            due += plan[i][1]
    return 0


if __name__ == "__main__":
    sys.exit(main())
