"""Geometry for the server-rendered SVG charts on /history. Pure: numbers in, shapes out.

Horizontal positions are percentages of the chart's width and heights are pixels, so one SVG
fills a wide browser window and a narrow OBS dock alike while its text keeps a readable size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

DAY_TOP = 16  # px above the tallest bar, for its count
DAY_H = 110  # px: the tallest bar
STUB_H = 2  # px: a day without failures still shows as a mark on the baseline
STEP_H = 48  # px: the tallest bar of a step chart
SLOTS = 10  # sessions per step chart; the newest on the right


@dataclass(frozen=True)
class DayBar:
    x: float  # % of the width, left edge of the day's slot
    slot: float  # % width of the slot (the hover area)
    bar_x: float  # %
    bar_w: float  # %
    y: float  # px
    h: float  # px
    day: date
    count: int
    today: bool


@dataclass(frozen=True)
class Tick:
    x: float  # %
    day: date
    anchor: str  # SVG text-anchor: the last label ends at the right edge


@dataclass(frozen=True)
class DayChart:
    bars: tuple[DayBar, ...]
    ticks: tuple[Tick, ...]
    top: int  # the busiest day's count (the scale)
    base: float  # px: the baseline
    height: float  # px: the whole SVG
    total: int
    last_7: int


def failures_per_day(days: Sequence[dict[str, Any]]) -> DayChart:
    """One bar per day, oldest first; the tallest is the busiest day; a label every 7 days to today."""
    n = len(days)
    top = max((d["failures"] for d in days), default=0)
    slot = 100 / n if n else 100.0
    base = DAY_TOP + DAY_H
    bars = []
    for i, d in enumerate(days):
        count = d["failures"]
        h = round(count / top * DAY_H, 1) if count else STUB_H
        bars.append(DayBar(
            x=round(i * slot, 3), slot=round(slot, 3), bar_x=round((i + 0.15) * slot, 3),
            bar_w=round(slot * 0.7, 3), y=round(base - h, 1), h=h,
            day=date.fromisoformat(d["date"]), count=count, today=i == n - 1,
        ))
    ticks = tuple(
        Tick(x=round((i + 1) * slot if i == n - 1 else (i + 0.5) * slot, 3), day=b.day,
             anchor="end" if i == n - 1 else "middle")
        for i, b in enumerate(bars) if (n - 1 - i) % 7 == 0
    )
    return DayChart(
        bars=tuple(bars), ticks=ticks, top=top, base=base, height=base + 18,
        total=sum(d["failures"] for d in days), last_7=sum(d["failures"] for d in days[-7:]),
    )


@dataclass(frozen=True)
class StepBar:
    x: float  # %
    w: float  # %
    y: float  # px
    h: float  # px
    session: int
    elapsed_s: float
    over: bool
    running: bool


@dataclass(frozen=True)
class StepChart:
    id: str
    title: str
    target_s: float | None
    avg_s: float | None
    bars: tuple[StepBar, ...]
    target_y: float | None  # px: the target line
    height: float  # px


def step_times(sessions: Sequence[dict[str, Any]], slots: int = SLOTS) -> list[StepChart]:
    """Per step, one bar per session (oldest first) against the step's target line.

    Each step has its own scale: a 15-minute review next to a 90-minute project would be a sliver.
    Sessions that never reached a step leave its slot empty.
    """
    shown = list(sessions)[-slots:]
    rows: dict[str, dict[str, Any]] = {}
    for k, s in enumerate(shown):
        for st in s["steps"]:
            row = rows.setdefault(st["id"], {"title": st["title"], "target_s": st["target_s"], "times": []})
            if st["elapsed_s"]:
                row["times"].append((k, s, st["elapsed_s"]))
    slot = 100 / slots
    offset = slots - len(shown)  # right-align: the newest session is always in the last slot
    charts = []
    for step_id, row in rows.items():
        target = row["target_s"]
        times = [t for _, _, t in row["times"]]
        top = max([*times, target * 1.25 if target else 0, 1])
        bars = tuple(
            StepBar(
                x=round((offset + k + 0.15) * slot, 3), w=round(slot * 0.7, 3),
                y=round(STEP_H - t / top * STEP_H, 1), h=round(t / top * STEP_H, 1),
                session=s["number"], elapsed_s=t, over=bool(target and t > target),
                running=s["ended_at"] is None,
            )
            for k, s, t in row["times"]
        )
        charts.append(StepChart(
            id=step_id, title=row["title"], target_s=target,
            avg_s=sum(times) / len(times) if times else None, bars=bars,
            target_y=round(STEP_H - target / top * STEP_H, 1) if target else None, height=STEP_H,
        ))
    return charts
