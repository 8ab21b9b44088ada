"""A recap of one session worth posting: a short one for chat or a social post (at most 500
characters), and a long one in Markdown for a notes app or a blog.

Its figures are /history's for the same session (history.session_detail), with the streak and
the pace toward the deadline as /history shows them today. Used by the dock (after `finish`),
`study-overlay export --format recap`, /history/N/recap and the Twitch link (`post_recap`).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from ..core import session as core
from ..core.display import clock as _clock
from ..core.pacing import pacing
from ..core.settings import Config
from ..i18n import Language, texts
from ..storage import history
from ..storage.history import local
from ..storage.store import state_from_db

SHORT_MAX = 500  # a Twitch chat message; short enough for a social post too
ELLIPSIS = "\u2026"


def gather(path: Path, config: Config, number: int, now: datetime) -> dict[str, Any] | None:
    """Everything a recap says, read once from the file (on a worker thread in the service)."""
    db = history.open_readonly(path)
    try:
        detail = history.session_detail(db, config, number, now)
        if detail is None:
            return None
        streak = history.streak(db, config.timezone, local(now, config.timezone).date())
        row = db.execute("SELECT data FROM state WHERE id = 1").fetchone()
        state = state_from_db(db, row[0]) if row else core.State()
    finally:
        db.close()
    deadline = config.deadline
    return {
        "session": detail, "streak_days": streak,
        "goal": pacing(config.goal, deadline, len(state.units), state.first_started, now),
        "deadline": None if deadline is None else {
            "label": deadline.label, "left_s": (deadline.at - now).total_seconds()},
    }


def clock(seconds: float | None) -> str:
    """As the overlays and /history write it (4:05, 1:02:03); "-" for none."""
    return "-" if seconds is None else _clock(int(seconds))


def _when(at: str | None, tz: tzinfo | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return local(datetime.fromisoformat(at.replace("Z", "+00:00")), tz).strftime(fmt) if at else "-"


def _by_step(detail: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for f in detail["failure_log"]:
        found.setdefault(f["step_title"], []).append(f)
    return found


def _progress(data: dict[str, Any], lang: Language) -> list[str]:
    """The streak, and where the deadline and the goal stand."""
    parts = [lang.plural("streak: %(num)s day", "streak: %(num)s days", data["streak_days"])]
    deadline = data["deadline"]
    if deadline is not None:
        parts.append(f"{deadline['label']}: {texts.days_text(lang, deadline['left_s'])}")
    if data["goal"] is not None:
        parts.append(texts.goal_summary(lang, data["goal"]))
    return parts


def short(data: dict[str, Any], lang: Language, limit: int = SHORT_MAX) -> str:
    """One paragraph, at most SHORT_MAX characters, cut at a word with "…" when the notes are long."""
    s = data["session"]
    done = [st for st in s["steps"] if not st["skipped"] and st["elapsed_s"]]
    on_target = sum(1 for st in done if st["target_s"] and st["elapsed_s"] <= st["target_s"])
    head = lang("Study session %(number)s: %(time)s over %(steps)s steps", number=s["number"],
                time=clock(s["elapsed_s"]), steps=len(done))
    if any(st["target_s"] for st in done):
        head += " " + lang("(%(num)s on target)", num=on_target)
    parts = [head, lang.plural("%(num)s failure", "%(num)s failures", s["failures"])
             + " (" + lang("more failures, more learning") + ")"]
    by_step = _by_step(s)
    if by_step:
        title, failures = max(by_step.items(), key=lambda kv: len(kv[1]))
        notes = "; ".join(f["note"] for f in failures if f["note"])
        parts.append(lang("toughest: %(step)s", step=title) + (f" ({notes})" if notes else ""))
    parts += _progress(data, lang)
    return fit(" · ".join(parts), limit)


def fit(text: str, limit: int) -> str:
    """`text`, or its start cut at a word boundary with "…", never over `limit` characters."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space > limit // 2:  # a word boundary not too far back; else cut inside a very long word
        cut = cut[:space]
    return cut.rstrip(" ·,;:(") + ELLIPSIS


def markdown(data: dict[str, Any], tz: tzinfo | None, lang: Language) -> str:
    """The study note (steps, failures by step) with the short recap on top and the progress."""
    note = to_markdown(data["session"], tz, lang)
    title, _, rest = note.partition("\n")
    progress = "\n".join(f"- {p}" for p in _progress(data, lang))
    heading = lang("Progress")  # not inside the f-string: the catalogs' extractor would miss it
    return f"{title}\n\n> {short(data, lang)}\n{rest.rstrip()}\n\n## {heading}\n\n{progress}\n"


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
    by_step = _by_step(detail)
    if not by_step:
        lines.append(lang("No failures logged. Next time, fail more!"))
    for title, failures in by_step.items():
        lines += [f"### {title}", ""]
        for f in failures:
            note = f["note"] or lang("(no note)")
            lines.append(f"- {_when(f['at'], tz, '%H:%M')} {note}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"

