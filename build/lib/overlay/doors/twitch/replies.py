"""What the chat link says: each question answered from the snapshot, in config.yaml's language.

The figures are the overlays' own (the snapshot), so a reply says what viewers see on stream.
"""

from __future__ import annotations

from typing import Any

from ...core.chat import MESSAGE_MAX
from ...core.display import clock
from ...i18n import Language, texts


def answer(word: str, snap: dict[str, Any], lang: Language) -> str:
    by_word = {"fails": fails, "step": step, "deadline": deadline, "routine": routine, "focus": focus}
    return by_word[word](snap, lang)[:MESSAGE_MAX]


def fails(snap: dict[str, Any], lang: Language) -> str:
    f = snap["failures"]
    text = lang("Failures: %(session)s this session, %(total)s in all", session=f["session"],
                total=f["total"])
    if f.get("last_note"):
        text += " · " + lang("latest: %(note)s", note=f["last_note"])
    return text + " · " + lang("more failures, more learning")


def step(snap: dict[str, Any], lang: Language) -> str:
    if snap["phase"] == "idle":
        return lang("No session right now.")
    s = snap["step"]
    time = clock(int(s["elapsed_s"] or 0))
    if s.get("target_s"):
        time += " / " + clock(int(s["target_s"]))
    text = lang("Step %(number)s/%(count)s: %(title)s · %(time)s", number=s["number"], count=s["count"],
                title=s["title"], time=time)
    if snap["phase"] in ("paused", "finished"):
        text += f" ({texts.phase(lang, snap['phase'])})"
    return text


def deadline(snap: dict[str, Any], lang: Language) -> str:
    d = snap.get("deadline")
    if not d:
        return lang("No deadline is set.")
    text = f"{d['label']}: {texts.days_text(lang, d['left_s'])}"
    goal = snap.get("goal")
    if goal:
        text += " · " + texts.goal_summary(lang, goal)
    return text


def routine(snap: dict[str, Any], lang: Language) -> str:
    marks = {"done": "\u2713", "current": "\u25b6", "skipped": "\u2013", "todo": ""}
    parts = [f"{marks[st['state']]}{i}. {st['title']}" for i, st in enumerate(snap["steps"], start=1)]
    return lang("The routine: %(steps)s", steps=" · ".join(parts))


def focus(snap: dict[str, Any], lang: Language) -> str:
    f = snap.get("focus")
    if not f:
        return lang("This step has no focus and break cycle.")
    left = clock(int(f["left_s"] or 0))
    if f["phase"] == "focus":
        n = (f["cycle"] - 1) % f["long_every"] + 1
        return lang("Focus %(n)s/%(of)s · %(time)s left", n=n, of=f["long_every"], time=left)
    if f["phase"] == "break":
        return lang("Break · %(time)s left", time=left)
    if f["phase"] == "long_break":
        return lang("Long break · %(time)s left", time=left)
    return lang("Break over")


def logged(snap: dict[str, Any], lang: Language) -> str:
    f = snap["failures"]
    text = lang("Failure %(number)s logged", number=f["session"])
    return text + (f": {f['last_note']}" if f["log"] and f["log"][-1]["note"] else "")


def undone(snap: dict[str, Any], lang: Language) -> str:
    return lang("Took back the last failure; %(number)s this session", number=snap["failures"]["session"])


def took_back(command: str, lang: Language) -> str:
    return lang("Undone: %(command)s", command=command)


def refused(reason: str, lang: Language) -> str:
    return lang("Not now: %(reason)s", reason=lang(reason))
