"""The recap: its figures are /history's for the same session, the short one never passes 500
characters whatever the notes (cut at a word, with "…"), and every door gives it."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from overlay.config import Config
from overlay.core import session as core
from overlay.core.display import clock
from overlay.i18n import language
from overlay.runtime import recap
from overlay.runtime.dispatcher import Dispatcher
from overlay.storage import history
from overlay.storage.store import Storage

from .conftest import T0, FakeClock


async def finished_session(config: Config, notes: list[str]) -> FakeClock:
    clock_ = FakeClock()
    storage = Storage(config.storage_path, config.steps)
    d = Dispatcher(config, storage, clock_)
    steps: list[tuple[float, core.Command]] = [(0, core.Start())]
    steps += [(1 + i / 10, core.Fail(n)) for i, n in enumerate(notes[:2])]
    steps += [(14, core.Next())] + [(20 + i / 10, core.Fail(n)) for i, n in enumerate(notes[2:])]
    steps += [(80, core.Next()), (95, core.Finish())]
    for minute, command in steps:
        clock_.now = T0 + timedelta(minutes=minute)
        await d.dispatch(command, "test")
    storage.close()
    return clock_


async def test_the_recap_says_what_history_says(config: Config) -> None:
    clock_ = await finished_session(config, ["sign error", "", "forgot the base case", "off by one",
                                             "confused map and flatMap"])
    now = clock_()
    data = recap.gather(config.storage_path, config, 1, now)
    assert data is not None
    shown = history.read_session(config.storage_path, config, 1, now)
    assert data["session"] == shown
    assert data["streak_days"] == history.history(
        config.storage_path, config, core.State(), now)["streak_days"] == 1
    text = recap.short(data, language("en"))
    assert text.startswith(f"Study session 1: {clock(int(shown['elapsed_s']))} over 3 steps (1 on target)")
    assert shown["failures"] == 5 and "5 failures (more failures, more learning)" in text
    assert "toughest: Watch the lecture (forgot the base case; off by one; confused map and flatMap)" in text
    assert "Course final: " in text and "streak: 1 day" in text
    long = recap.markdown(data, None, language("en"))
    assert long.startswith("# Study session 1: ") and f"> {text}\n" in long
    assert "### Watch the lecture" in long and "## Progress" in long


# Notes as streamers type them: words of any script, and now and then one long unbroken run.
WORDS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Z")), min_size=1, max_size=30)
NOTES = st.one_of(
    st.lists(WORDS, max_size=40).map(lambda ws: " ".join(ws)[:280].strip()),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=280).map(str.strip),
)


@given(st.lists(NOTES, min_size=0, max_size=12))
def test_the_short_recap_fits_a_chat_message_whatever_the_notes(notes: list[str]) -> None:
    detail: dict[str, Any] = {
        "number": 7, "elapsed_s": 5400.0, "failures": len(notes), "pauses": 0, "break_s": 0,
        "steps": [{"title": "One project", "elapsed_s": 5400.0, "target_s": 3600.0, "skipped": False}],
        "failure_log": [{"step_title": "One project", "note": n, "at": "2026-11-24T18:00:00Z"}
                        for n in notes],
    }
    data = {"session": detail, "streak_days": 12, "goal": None,
            "deadline": {"label": "Course final", "left_s": 86400 * 90.0}}
    for code in ("en", "it", "es"):
        text = recap.short(data, language(code))
        whole = recap.short(data, language(code), limit=10**6)
        assert len(text) <= recap.SHORT_MAX
        if text != whole:  # cut: the start of the whole, at a word when there is one to cut at
            assert text.endswith(recap.ELLIPSIS) and whole.startswith(text[:-1])
            assert len(text) > recap.SHORT_MAX // 2


def test_fit_cuts_at_a_word() -> None:
    words = "one two three four five six seven eight nine ten " * 20
    cut = recap.fit(words, 50)
    assert len(cut) <= 50 and cut.endswith(recap.ELLIPSIS)
    assert words.startswith(cut[:-1]) and words[len(cut) - 1] == " "  # whole words only
    assert recap.fit("short", 50) == "short"
    assert recap.fit("x" * 100, 50) == "x" * 49 + recap.ELLIPSIS  # one long word: cut inside it


async def test_every_door_gives_the_recap(config: Config, tmp_path: Path) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from overlay.app import build_app

    clock_ = await finished_session(config, ["sign error"])
    app = build_app(config, Storage(config.storage_path, config.steps), clock=clock_)
    async with TestClient(TestServer(app)) as client:
        answer = await client.get("/history/1/recap")
        assert answer.status == 200 and answer.content_type == "text/markdown"
        long = await answer.text()
        body = await (await client.get("/api/sessions/1/recap")).json()
        assert body["number"] == 1 and body["markdown"] == long and f"> {body['short']}" in long
        italian = await (await client.get("/api/sessions/1/recap?lang=it")).json()
        assert italian["short"].startswith("Sessione di studio 1: ")
        assert (await client.get("/history/9/recap")).status == 404
        assert (await client.get("/api/sessions/x/recap")).status == 400
    path = tmp_path / "c.yaml"
    path.write_text(f"steps:\n  - {{id: a, title: A}}\nstorage: {{path: {config.storage_path}}}\n")
    out = subprocess.run([sys.executable, "-m", "overlay", "--config", str(path), "export", "--format",
                          "recap", "--session", "1"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    short, _, rest = out.stdout.partition("\n\n")
    assert short.startswith("Study session 1: ") and rest.startswith("# Study session 1: ")
