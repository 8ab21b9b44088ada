"""Focus and break boundaries in a real `serve`: it wakes at each one (no polling), commits it
once, and after a kill -9 in the middle of a break the break still ends on time, once."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from .procs import ServerProcess, free_port, post, wait_for, write_config

# Long enough that a busy 2-core machine reads each phase before it ends, and restarts (a second
# or two here) well inside the break.
WORK_S, BREAK_S = 4, 10
FOCUS = f"focus: {{work: {WORK_S}s, break: {BREAK_S}s, long_break: 12s, long_every: 4, auto: true}}\n"


def crossings(db: Path) -> list[tuple[int, datetime]]:
    """The committed catch-ups, from the file: (rev, when the service committed it)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT rev, at, command FROM commands ORDER BY rev").fetchall()
    return [(rev, datetime.fromisoformat(at)) for rev, at, command in rows
            if json.loads(command).get("command") == "catch-up"]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_breaks_start_and_end_on_time_and_a_kill_9_in_a_break_fires_nothing_twice(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, port, FOCUS)
    db = tmp_path / "study-overlay.sqlite3"
    server = ServerProcess(config, port).start()
    try:
        status, snap = post(server.url, {"command": "start"})
        assert status == 200 and snap["focus"]["phase"] == "focus", snap
        focus_ends = at(snap["focus"]["ends_at"])
        first = wait_for(lambda: crossings(db), "the first focus to end", timeout=WORK_S + 10)
        assert len(first) == 1
        woke = first[0][1]
        assert focus_ends <= woke and (woke - focus_ends).total_seconds() < 1.0, (focus_ends, woke)
        snap = server.state()
        assert snap["focus"]["phase"] == "break" and snap["focus"]["cycle"] == 1
        break_ends = at(snap["focus"]["ends_at"])
        assert (break_ends - focus_ends).total_seconds() == BREAK_S

        time.sleep(2.0)  # in the middle of the break
        server.kill9()
        server = ServerProcess(config, port).start()
        assert datetime.now(UTC) < break_ends, "the restart took the whole break: make it longer"
        assert crossings(db) == first  # a restart before the boundary commits nothing
        assert server.state()["focus"]["phase"] == "break"

        both = wait_for(lambda: crossings(db)[1:] and crossings(db), "the break to end",
                        timeout=BREAK_S + 10)
        woke = both[1][1]
        assert break_ends <= woke and (woke - break_ends).total_seconds() < 1.0, (break_ends, woke)
        snap = server.state()
        assert snap["focus"]["phase"] == "focus" and snap["focus"]["cycle"] == 2
        # The next focus counts from the break's end, not from when the service woke.
        assert (at(snap["focus"]["ends_at"]) - break_ends).total_seconds() == WORK_S
        assert len(crossings(db)) == 2  # and the boundary was crossed once
    finally:
        server.stop()
