"""`study-overlay export`: one session as a Markdown study note, CSV (a row per failure) or JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, tzinfo
from typing import Any

from ...core.display import hms as clock
from ...storage.history import local


def _when(at: str | None, tz: tzinfo | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return local(datetime.fromisoformat(at.replace("Z", "+00:00")), tz).strftime(fmt) if at else "-"


def to_json(detail: dict[str, Any]) -> str:
    return json.dumps(detail, indent=2, ensure_ascii=False) + "\n"


def to_csv(detail: dict[str, Any], tz: tzinfo | None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["session", "seq", "at", "step_id", "step_title", "note"])
    for f in detail["failure_log"]:
        writer.writerow([
            detail["number"], f["seq"], _when(f["at"], tz, "%Y-%m-%dT%H:%M:%S%z"),
            f["step_id"], f["step_title"], f["note"],
        ])
    return out.getvalue()


def to_markdown(detail: dict[str, Any], tz: tzinfo | None) -> str:
    """A study note: steps with their times, then the failure notes grouped by step."""
    lines = [
        f"# Study session {detail['number']}: {_when(detail['started_at'], tz, '%A %d %B %Y')}",
        "",
        f"- Started {_when(detail['started_at'], tz)}, ended {_when(detail['ended_at'], tz)}"
        f" ({detail['outcome']})",
        f"- Studied {clock(detail['elapsed_s'])}, {detail['pauses']} pause(s)",
        f"- Failures: {detail['failures']}",
        "",
        "## Steps",
        "",
        "| step | time | target |",
        "|---|---|---|",
    ]
    for st in detail["steps"]:
        time = "skipped" if st.get("skipped") else clock(st["elapsed_s"])
        lines.append(f"| {st['title']} | {time} | {clock(st['target_s'])} |")
    lines += ["", "## Failures by step", ""]
    by_step: dict[str, list[dict[str, Any]]] = {}
    for f in detail["failure_log"]:
        by_step.setdefault(f["step_title"], []).append(f)
    if not by_step:
        lines.append("No failures logged. Next time, fail more!")
    for title, failures in by_step.items():
        lines += [f"### {title}", ""]
        for f in failures:
            note = f["note"] or "(no note)"
            lines.append(f"- {_when(f['at'], tz, '%H:%M')} {note}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
