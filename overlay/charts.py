"""Geometry for the server-rendered SVG charts on /history. Pure: numbers in, shapes out."""

from __future__ import annotations

from typing import Any

DAY_W, DAY_GAP, DAY_H = 10, 2, 120
ROW_H, BAR_W = 22, 320


def failures_per_day(days: list[dict[str, Any]]) -> dict[str, Any]:
    """One bar per day, tallest = busiest day; weeks marked every 7 days from the right."""
    top = max((d["failures"] for d in days), default=0) or 1
    bars = []
    for i, d in enumerate(days):
        h = round(d["failures"] / top * (DAY_H - 20))
        bars.append({
            "x": i * (DAY_W + DAY_GAP), "y": DAY_H - h, "w": DAY_W, "h": h,
            "date": d["date"], "count": d["failures"],
        })
    width = len(days) * (DAY_W + DAY_GAP) - DAY_GAP
    weeks = [
        {"x": b["x"] + DAY_W / 2, "label": b["date"][5:]}
        for i, b in enumerate(bars) if (len(bars) - 1 - i) % 7 == 0
    ]
    return {"width": max(width, 1), "height": DAY_H + 16, "base": DAY_H, "top": top,
            "bars": bars, "weeks": weeks}


def step_times(sessions: list[dict[str, Any]]) -> dict[str, Any]:
    """Per step, average time over recent sessions against its target, as horizontal bars."""
    rows: dict[str, dict[str, Any]] = {}
    for s in sessions:
        for st in s["steps"]:
            row = rows.setdefault(st["id"], {"title": st["title"], "target_s": st["target_s"], "times": []})
            if st["elapsed_s"]:
                row["times"].append(st["elapsed_s"])
    scale_top = max(
        [max(r["times"], default=0) for r in rows.values()]
        + [r["target_s"] or 0 for r in rows.values()] + [1]
    )
    out = []
    for i, (step_id, r) in enumerate(rows.items()):
        avg = sum(r["times"]) / len(r["times"]) if r["times"] else 0.0
        target = r["target_s"]
        out.append({
            "id": step_id, "title": r["title"], "y": i * ROW_H, "avg_s": avg, "target_s": target,
            "sessions": len(r["times"]),
            "w": round(avg / scale_top * BAR_W),
            "target_x": round(target / scale_top * BAR_W) if target else None,
            "over": bool(target and avg > target),
        })
    return {"rows": out, "width": BAR_W, "height": max(len(out), 1) * ROW_H}
