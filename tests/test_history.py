"""History, export, review of the previous session and deadline pacing, on a real SQLite file."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer

from overlay.app import build_app
from overlay.config import Config, Deadline, Goal, parse_config
from overlay.core import session as core
from overlay.core.pacing import pacing
from overlay.doors.cli import export
from overlay.i18n import language, texts
from overlay.runtime.dispatcher import Dispatcher
from overlay.storage import history
from overlay.storage.store import Storage

from .conftest import ROUTINE, FakeClock

EN = language("en")

NY = ZoneInfo("America/New_York")
ROUTINE_NY = ROUTINE.replace(
    "  - {id: review, title: Review last notes, target: 15m, scene: Review}",
    "  - {id: review, title: Review last notes, target: 15m, scene: Review, reviews_previous: true}",
) + "timezone: America/New_York\ngoal: {units: 8, unit: lesson}\n"


@pytest.fixture
def ny_config(tmp_path: Path) -> Config:
    return parse_config(ROUTINE_NY + f"storage:\n  path: {tmp_path / 'h.sqlite3'}\n", base_dir=tmp_path)


def ny(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=NY).astimezone(UTC)


async def build_history(config: Config) -> Dispatcher:
    """Three sessions on three New York days; one failure at 23:30 local (04:30 UTC next day)."""
    clock = FakeClock(ny(20, 18))
    d = Dispatcher(config, Storage(config.storage_path, config.steps), clock)

    async def at(when: datetime, *commands: core.Command) -> None:
        clock.now = when
        for c in commands:
            await d.dispatch(c, "test")

    await at(ny(20, 18), core.Start())
    await at(ny(20, 18, 10), core.Fail("sign error"), core.Next())
    await at(ny(20, 19), core.Fail("forgot the chain rule"))
    await at(ny(20, 23, 30), core.Fail("late-night off-by-one"), core.Finish())
    await at(ny(21, 9), core.Start(), core.Fail("bias term"), core.Reset())
    await at(ny(22, 20), core.Start(), core.CompleteUnit())
    await at(ny(22, 20, 45), core.Fail(""))
    return d


async def test_failures_per_day_count_in_the_configured_zone(ny_config: Config) -> None:
    d = await build_history(ny_config)
    data = history.history(ny_config.storage_path, ny_config, d.state, ny(22, 21))
    days = {row["date"]: row["failures"] for row in data["days"]}
    assert len(data["days"]) == 56 and data["today"] == "2026-11-22"
    assert days["2026-11-20"] == 3  # 23:30 New York is 04:30 UTC on the 21st, but counts on the 20th
    assert days["2026-11-21"] == 1
    assert days["2026-11-22"] == 1
    assert sum(days.values()) == 5
    assert data["lifetime_failures"] == 5
    assert data["streak_days"] == 1  # the 21st had only a reset session, which breaks the streak
    d.storage.close()


async def test_sessions_keep_step_times_and_outcomes(ny_config: Config) -> None:
    d = await build_history(ny_config)
    db = history.open_readonly(ny_config.storage_path)
    rows = history.sessions(db, ny_config, ny(22, 21))
    detail = history.session_detail(db, ny_config, 1, ny(22, 21))
    db.close()
    d.storage.close()
    assert [(r["number"], r["outcome"]) for r in rows] == [(3, "running"), (2, "reset"), (1, "finished")]
    assert rows[1]["elapsed_s"] == 0  # reset at once: its clock stopped at the reset, not at now
    assert detail is not None
    assert [s["elapsed_s"] for s in detail["steps"]] == [600, 5 * 3600 + 20 * 60, 0]
    assert [f["note"] for f in detail["failure_log"]] == [
        "sign error", "forgot the chain rule", "late-night off-by-one"
    ]
    assert detail["failure_log"][1]["step_title"] == "Watch the lecture"


async def test_exports_parse_back(ny_config: Config) -> None:
    d = await build_history(ny_config)
    db = history.open_readonly(ny_config.storage_path)
    detail = history.session_detail(db, ny_config, 1, ny(22, 21))
    db.close()
    d.storage.close()
    assert detail is not None
    rows = list(csv.DictReader(io.StringIO(export.to_csv(detail, NY))))
    assert [r["note"] for r in rows] == ["sign error", "forgot the chain rule", "late-night off-by-one"]
    assert rows[2]["at"].startswith("2026-11-20T23:30:00-0500")
    assert json.loads(export.to_json(detail))["failure_log"][0]["step_id"] == "review"
    md = export.to_markdown(detail, NY, EN)
    for note in ("sign error", "forgot the chain rule", "late-night off-by-one"):
        assert note in md
    assert "### Watch the lecture\n\n- 19:00 forgot the chain rule\n- 23:30 late-night off-by-one" in md
    assert "| Review last notes | 10:00 | 15:00 |" in md


async def test_the_review_step_shows_the_previous_sessions_notes(ny_config: Config) -> None:
    d = await build_history(ny_config)
    d.storage.close()
    from overlay.core.views import snapshot

    snap = snapshot(d.state, ny_config, ny(22, 21), d.rev)
    assert snap["step"]["id"] == "review"
    assert snap["review"]["session"] == 2  # the reset session came right before this one
    assert [n["note"] for n in snap["review"]["notes"]] == ["bias term"]


async def test_history_api_and_session_api(ny_config: Config) -> None:
    d = await build_history(ny_config)
    d.storage.close()
    clock = FakeClock(ny(22, 21))
    app = build_app(ny_config, Storage(ny_config.storage_path, ny_config.steps), clock=clock)
    async with TestClient(TestServer(app)) as client:
        data = await (await client.get("/api/history")).json()
        assert data["sessions_count"] == 3 and data["lifetime_failures"] == 5
        assert data["goal"]["done"] == 1
        one = await (await client.get("/api/sessions/1")).json()
        assert len(one["failure_log"]) == 3
        assert (await client.get("/api/sessions/99")).status == 404
        assert (await client.get("/api/sessions/x")).status == 400
        assert (await client.get("/api/sessions/99999999999999999999999")).status == 400
        for suffix in ("", "-wal", "-shm"):
            Path(f"{ny_config.storage_path}{suffix}").unlink(missing_ok=True)
        gone = await client.get("/api/history")
        assert gone.status == 503 and "cannot read the history" in (await gone.json())["error"]
        assert (await client.get("/api/sessions/1")).status == 503


def test_export_cli(ny_config: Config, tmp_path: Path) -> None:
    import asyncio

    d = asyncio.run(build_history(ny_config))
    d.storage.close()
    config_file = tmp_path / "config.yaml"
    config_file.write_text(ROUTINE_NY + f"storage:\n  path: {ny_config.storage_path}\n")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "overlay", "--config", str(config_file), "export", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=30)

    done = run("--session", "1", "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert len(list(csv.DictReader(io.StringIO(done.stdout)))) == 3
    done = run("--format", "json")  # the latest session by default
    assert json.loads(done.stdout)["number"] == 3
    done = run("--session", "42")
    assert done.returncode == 1 and "no session 42" in done.stderr


# --- pacing, hand-computed -------------------------------------------------------------------

T = datetime(2026, 11, 1, 12, tzinfo=UTC)
GOAL = Goal(units=8, unit="lesson", unit_plural="lessons")
DEADLINE = Deadline(at=T + timedelta(days=30), label="final")


def test_pacing_needed_and_on_track() -> None:
    # 10 days in, 3 done, 20 days left for 5: one every 4 days; pace 0.3/day projects 9 >= 8.
    p = pacing(GOAL, DEADLINE, 3, T, T + timedelta(days=10))
    assert p is not None
    assert (p["left"], p["days_left"]) == (5, 20)
    assert texts.needed(EN, p) == "1 lesson every 4 days"
    assert p["pace_per_day"] == 0.3 and p["on_track"] is True
    assert texts.goal_summary(EN, p) == "5 lessons left in 20 days: 1 lesson every 4 days"


def test_pacing_behind() -> None:
    # 20 days in, 1 done: 7 left in 10 days is one every 1.43 days; pace 0.05/day projects 1.5 < 8.
    p = pacing(GOAL, DEADLINE, 1, T, T + timedelta(days=20))
    assert p is not None
    assert texts.needed(EN, p) == "1 lesson every 1.4 days"
    assert p["on_track"] is False
    assert texts.pace_so_far(EN, p) == "so far 1 lesson every 20 days"
    # 27 days in, still 1 done: 7 left in 3 days is 2.33 a day.
    late = pacing(GOAL, DEADLINE, 1, T, T + timedelta(days=27))
    assert late is not None and texts.needed(EN, late) == "2.3 lessons a day"
    one = pacing(GOAL, DEADLINE, 3, T, T + timedelta(days=25.04))  # 5 left in 4.96 days
    assert one is not None and texts.needed(EN, one) == "1 lesson a day"


def test_pacing_one_every_three_and_a_half_days() -> None:
    p = pacing(GOAL, DEADLINE, 4, T, T + timedelta(days=16))
    assert p is not None and texts.needed(EN, p) == "1 lesson every 3.5 days"


def test_pacing_after_the_deadline() -> None:
    p = pacing(GOAL, DEADLINE, 6, T, T + timedelta(days=33))
    assert p is not None
    assert p["passed"] is True and p["on_track"] is False
    assert texts.goal_summary(EN, p) == "deadline passed 3 days ago; 6 of 8 lessons done"


def test_pacing_goal_reached_and_too_early() -> None:
    done = pacing(GOAL, DEADLINE, 8, T, T + timedelta(days=5))
    assert done is not None and texts.needed(EN, done) == "goal reached" and done["on_track"] is True
    early = pacing(GOAL, DEADLINE, 0, T, T + timedelta(hours=3))
    assert early is not None and early["on_track"] is None
    assert texts.pace_so_far(EN, early) == "pace: too early to tell"
    idle = pacing(GOAL, DEADLINE, 0, T, T + timedelta(days=3))
    assert idle is not None and texts.pace_so_far(EN, idle) == "no lessons done yet"
    assert pacing(None, DEADLINE, 0, T, T) is None


async def test_break_time_is_kept_apart_in_the_history_the_page_and_the_export(tmp_path: Path) -> None:
    """50 minutes of focus, a 10-minute break, 20 more minutes: the step studied 70 minutes and
    the break shows on its own, in the session's detail, on /history/1 and in the export."""
    focus = "focus: {work: 50m, break: 10m}\n"
    storage = f"storage:\n  path: {tmp_path / 'b.sqlite3'}\n"
    config = parse_config(ROUTINE + focus + storage, base_dir=tmp_path)
    clock = FakeClock(ny(20, 18))
    d = Dispatcher(config, Storage(config.storage_path, config.steps), clock)
    await d.dispatch(core.Start(), "test")
    clock.now = ny(20, 19, 20)  # the focus ended at 18:50 and the break at 19:00
    await d.dispatch(core.Finish(), "test")
    d.storage.close()
    db = history.open_readonly(config.storage_path)
    detail = history.session_detail(db, config, 1, clock.now)
    db.close()
    assert detail is not None
    assert (detail["steps"][0]["elapsed_s"], detail["steps"][0]["break_s"]) == (70 * 60, 10 * 60)
    assert detail["break_s"] == 10 * 60 and detail["elapsed_s"] == 70 * 60
    md = export.to_markdown(detail, NY, EN)
    assert "- Breaks: 10:00, apart from the steps' time" in md
    assert "| Review last notes | 1:10:00 | 15:00 | 10:00 |" in md
    app = build_app(config, Storage(config.storage_path, config.steps), clock=clock)
    async with TestClient(TestServer(app)) as client:
        page = await (await client.get("/history/1")).text()
    assert '<span class="n" id="session-breaks">10:00</span>' in page
    assert '<td class="breaks">10:00</td>' in page
