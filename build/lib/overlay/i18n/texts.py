"""Figures in words, where Python draws them (/history, the CLI, export): one wording for each.

overlay.js words the same figures for the live pages with the same messages; a test renders both
and compares them.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from . import N_, Language


def number(lang: Language, x: float) -> str:
    """At most one decimal, in the language's own way: 16.8, 16,8."""
    from babel.numbers import format_decimal

    return format_decimal(x, "#,##0.#", locale=lang.locale)


def countdown(lang: Language, left_s: float) -> str:
    """Under a day: "17h 50m", "50m"; whole minutes, rounded toward the deadline."""
    minutes = math.ceil(left_s / 60) if left_s > 0 else math.floor(-left_s / 60)
    h, m = divmod(minutes, 60)
    return lang("%(h)sh %(m)sm", h=h, m=str(m).zfill(2)) if h else lang("%(m)sm", m=m)


def days_text(lang: Language, left_s: float) -> str:
    """ "90 days left", "1 day past", "17h 50m left": the deadline everywhere it is written."""
    days = math.floor(abs(left_s) / 86400)
    if left_s > 0:
        if days:
            return lang.plural("%(num)s day left", "%(num)s days left", days)
        return lang("%(time)s left", time=countdown(lang, left_s))
    if days:
        return lang.plural("%(num)s day past", "%(num)s days past", days)
    return lang("%(time)s past", time=countdown(lang, left_s))


def units(goal: dict[str, Any], n: int) -> str:
    """ "3 lessons": the unit words come from config.yaml, already in the streamer's language."""
    return f"{n} {goal['unit'] if n == 1 else goal['unit_plural']}"


def needed(lang: Language, goal: dict[str, Any]) -> str:
    """The pace needed: "1 lesson every 16.8 days", "2.3 lessons a day", "goal reached"."""
    if not goal["left"]:
        return lang("goal reached")
    if goal["needed_every_days"] is not None:
        return lang("1 %(unit)s every %(days)s days", unit=goal["unit"],
                    days=number(lang, goal["needed_every_days"]))
    if goal["needed_per_day"] is not None:
        rate = goal["needed_per_day"]
        word = goal["unit"] if rate == 1 else goal["unit_plural"]
        return lang("%(units)s a day", units=number(lang, rate) + " " + word)
    return ""


def pace_so_far(lang: Language, goal: dict[str, Any]) -> str:
    if goal["pace_per_day"] is None:
        return lang("pace: too early to tell")
    if goal["so_far_every_days"] is None:
        return lang("no %(units)s done yet", units=goal["unit_plural"])
    return lang("so far 1 %(unit)s every %(days)s days", unit=goal["unit"],
                days=number(lang, goal["so_far_every_days"]))


def goal_summary(lang: Language, goal: dict[str, Any]) -> str:
    """One sentence for /history's verdict."""
    if not goal["left"]:
        return lang("all %(units)s done", units=units(goal, goal["units"]))
    if goal["passed"]:
        return lang("deadline passed %(days)s days ago; %(done)s of %(units)s done",
                    days=number(lang, -goal["days_left"]), done=goal["done"],
                    units=units(goal, goal["units"]))
    return lang("%(units)s left in %(days)s days: %(needed)s", units=units(goal, goal["left"]),
                days=number(lang, goal["days_left"]), needed=needed(lang, goal))


PHASES = {"idle": N_("not started"), "running": N_("running"), "paused": N_("paused"),
          "finished": N_("finished")}
OUTCOMES = {"finished": N_("finished"), "running": N_("in progress"), "paused": N_("paused"),
            "reset": N_("reset")}


def phase(lang: Language, name: str) -> str:
    return lang(PHASES[name]) if name in PHASES else name


def outcome(lang: Language, name: str) -> str:
    return lang(OUTCOMES[name]) if name in OUTCOMES else name


def day(lang: Language, d: date) -> str:
    """ "Mon 24 Nov" in English, "lun 24 nov" in Italian."""
    from babel.dates import format_date

    return format_date(d, "EEE d MMM", locale=lang.locale)


def long_day(lang: Language, d: date) -> str:
    """ "Monday 24 November 2026"."""
    from babel.dates import format_date

    return format_date(d, "EEEE d MMMM y", locale=lang.locale)


def moment(lang: Language, at: datetime) -> str:
    """A date and a time of day: "Mon 24 Nov 2026, 18:00"."""
    from babel.dates import format_datetime

    return format_datetime(at, "EEE d MMM y, HH:mm", tzinfo=at.tzinfo, locale=lang.locale)


def short_day(lang: Language, d: date) -> str:
    """A chart's tick: "24 Nov"."""
    from babel.dates import format_date

    return format_date(d, "d MMM", locale=lang.locale)
