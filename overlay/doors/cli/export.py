"""`study-overlay export`: one session as a Markdown study note, CSV (a row per failure) or JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, tzinfo
from typing import Any

from ...core.display import clock as _clock
from ...i18n import Language, texts
from ...storage.history import local


def _when(at: str | None, tz: tzinfo | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return local(datetime.fromisoformat(at.replace("Z", "+00:00")), tz).strftime(fmt) if at else "-"


def clock(seconds: float | None) -> str:
    """As the overlays and /history write it (4:05, 1:02:03); "-" for none."""
    return "-" if seconds is None else _clock(int(seconds))


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


def to_markdown(detail: dict[str, Any], tz: tzinfo | None, lang: Language) -> str:
    """A study note: steps with their times, then the failure notes grouped by step."""
    started = local(datetime.fromisoformat(detail["started_at"]), tz)
    lines = [
        "# " + lang("Study session %(number)s: %(date)s", number=detail["number"],
                    date=texts.long_day(lang, started.date())),
        "",
        "- " + lang("Started %(start)s, ended %(end)s (%(outcome)s)", start=_when(detail["started_at"], tz),
                    end=_when(detail["ended_at"], tz), outcome=texts.outcome(lang, detail["outcome"])),
        "- " + lang.plural("Studied %(time)s, %(num)s pause", "Studied %(time)s, %(num)s pauses",
                      detail["pauses"], time=clock(detail["elapsed_s"])),
        "- " + lang("Failures: %(count)s", count=detail["failures"]),
        *(["- " + lang("Breaks: %(time)s, apart from the steps' time", time=clock(detail["break_s"]))]
          if detail.get("break_s") else []),
        "",
        "## " + lang("Steps"),
        "",
        "| {} | {} | {} |".format(lang("step"), lang("time"), lang("target")),
        "|---|---|---|",
    ]
    breaks = bool(detail.get("break_s"))  # a column of its own, only when there were breaks
    if breaks:
        lines[-2:] = ["| {} | {} | {} | {} |".format(lang("step"), lang("time"), lang("target"),
                                                     lang("breaks")), "|---|---|---|---|"]
    for st in detail["steps"]:
        time = lang("skipped") if st.get("skipped") else clock(st["elapsed_s"])
        row = f"| {st['title']} | {time} | {clock(st['target_s'])} |"
        lines.append(row + (f" {clock(st['break_s']) if st.get('break_s') else ''} |" if breaks else ""))
    lines += ["", "## " + lang("Failures by step"), ""]
    by_step: dict[str, list[dict[str, Any]]] = {}
    for f in detail["failure_log"]:
        by_step.setdefault(f["step_title"], []).append(f)
    if not by_step:
        lines.append(lang("No failures logged. Next time, fail more!"))
    for title, failures in by_step.items():
        lines += [f"### {title}", ""]
        for f in failures:
            note = f["note"] or lang("(no note)")
            lines.append(f"- {_when(f['at'], tz, '%H:%M')} {note}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
