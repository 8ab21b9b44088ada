"""Scene-switch latency against a real OBS under Xvfb.

From ObsLink.want_scene to OBS's reply to the switch request, and to OBS's
CurrentProgramSceneChanged event (seen by an independent client), over N switches,
for the Cut and the default Fade (300 ms) transition; plus the follow path, from a switch
made by another client to ObsLink's on_scene_changed (which includes its debounce).

Run: .venv/bin/python bench/bench_obs.py [--switches 100] [--fps 30]
"""

from __future__ import annotations

import argparse
import asyncio
import queue
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import obsws_python  # noqa: E402

from overlay.doors.obs.link import ObsLink, close_client, connect  # noqa: E402
from tests.obs_harness import Obs, missing_tools, running_obs  # noqa: E402

SCENES = ["Bench A", "Bench B"]


def summary(label: str, samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return (f"{label:<48} median {statistics.median(ms):8.2f} ms   p99 {p99:8.2f} ms   "
            f"max {ms[-1]:8.2f} ms   n={len(ms)}")


async def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("OBS did not answer in time")
        await asyncio.sleep(0.0005)


async def bench(obs: Obs, switches: int) -> list[str]:
    events: queue.Queue[tuple[str, float]] = queue.Queue()

    class Stamp:
        def on_current_program_scene_changed(self, data: Any) -> None:
            events.put((data.scene_name, time.perf_counter()))

    replies: list[tuple[str, float]] = []
    followed: list[tuple[str, float]] = []
    link = ObsLink(host="127.0.0.1", port=obs.port, password=obs.password,
                   on_status=lambda status: None,
                   on_scene_changed=lambda scene: followed.append((scene, time.perf_counter())),
                   on_switched=lambda scene: replies.append((scene, time.perf_counter())))
    watcher = connect(obsws_python.EventClient, host="127.0.0.1", port=obs.port,
                      password=obs.password, timeout=5.0, subs=obsws_python.Subs.SCENES)
    watcher.callback.register(Stamp().on_current_program_scene_changed)
    lines = []
    try:
        await link.start()
        await wait_for(lambda: link.status.state == "connected")
        for transition in ("Cut", "Fade"):
            await asyncio.sleep(0.5)
            # OBS 29 loses the next scene-changed event if the transition is swapped before
            # the previous one has ended.
            obs.request("SetCurrentSceneTransition", {"transitionName": transition})
            await asyncio.sleep(0.5)
            to_reply, to_event = [], []
            scene = obs.program_scene()
            for i in range(switches + 1):
                scene = SCENES[1 - SCENES.index(scene)]
                replies.clear()
                t0 = time.perf_counter()
                link.want_scene(scene)
                await wait_for(lambda: bool(replies))
                name, t_event = await asyncio.to_thread(events.get, timeout=10)
                assert name == scene, (name, scene)
                if i:  # the first switch warms up both connections
                    to_reply.append(replies[0][1] - t0)
                    to_event.append(t_event - t0)
            lines.append(summary(f"want_scene -> reply to the switch ({transition})", to_reply))
            lines.append(summary(f"want_scene -> CurrentProgramSceneChanged ({transition})",
                                 to_event))
        await asyncio.sleep(0.5)
        obs.request("SetCurrentSceneTransition", {"transitionName": "Cut"})
        await asyncio.sleep(0.5)
        to_follow = []
        scene = obs.program_scene()
        for _ in range(switches):
            scene = SCENES[1 - SCENES.index(scene)]
            followed.clear()
            t0 = time.perf_counter()
            obs.request("SetCurrentProgramScene", {"sceneName": scene})
            await wait_for(lambda: bool(followed))
            to_follow.append(followed[0][1] - t0)
            link.want_scene(scene)  # as the service does when it follows
        lines.append(summary("switch by another client -> on_scene_changed", to_follow))
    finally:
        await link.stop()
        close_client(watcher)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=100)
    parser.add_argument("--fps", type=int, default=30)
    args = parser.parse_args()
    if missing := missing_tools():
        print(f"needs a real OBS under Xvfb; missing: {', '.join(missing)}", file=sys.stderr)
        return 1
    with running_obs(SCENES, fps=args.fps) as (_, obs):
        version = obs.request("GetVersion")
        print(f"OBS {version['obsVersion']}, obs-websocket {version['obsWebSocketVersion']}, "
              f"{args.fps} fps, Xvfb + Mesa software GL")
        for line in asyncio.run(bench(obs, args.switches)):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
