"""Languages: the catalogs are complete and current, and every page and the CLI speak the one asked for.

The browser half (every text a viewer or the streamer sees comes from the catalog) is in
test_i18n_browser.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from overlay import i18n
from overlay.app import build_app
from overlay.config import Config, ConfigError, parse_config
from overlay.core import session as core
from overlay.core.pacing import pacing
from overlay.core.settings import Deadline, Goal
from overlay.i18n import language, texts
from overlay.pages.overlays import DOCK_WORDS
from overlay.storage.store import Storage

from .conftest import ROOT, FakeClock

CFG = ROOT / "overlay" / "i18n" / "babel.cfg"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "lang": None, "plural": (1, 2)}
SHIPPED = [code for code in i18n.LANGUAGES if code != i18n.SOURCE]
PLACEHOLDER = re.compile(r"%\(\w+\)s|</?\w+>")


def extracted() -> dict[str | tuple[str, ...], set[str]]:
    """Every message in the source tree now, as `make messages` finds it, with where it is."""
    from babel.messages.frontend import parse_mapping_cfg

    with CFG.open() as file:
        method_map, options_map = parse_mapping_cfg(file)
    out: dict[str | tuple[str, ...], set[str]] = {}
    for path, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS):
        key = message if isinstance(message, str) else tuple(message)
        out.setdefault(key, set()).add(path)
    return out


def ids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}


def read(path: Path, code: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=code)


def test_the_template_holds_every_message_of_the_source_and_no_other() -> None:
    now = extracted()
    pot = ids(read(i18n.LOCALES / "messages.pot"))
    new, gone = set(now) - pot, pot - set(now)
    assert not new and not gone, (
        f"run `make messages`: new {sorted(map(str, new))}, gone {sorted(map(str, gone))}")
    assert len(now) > 150  # the extraction found the templates, the scripts and the Python


def test_the_python_keywords_do_not_hide_a_script_message() -> None:
    """Babel's JavaScript reader takes any name among the keywords for a call: `n ? ngettext(...)`
    once lost a message to a Python keyword `n`. Read the scripts with their own keywords only."""
    from babel.messages.extract import extract

    pot = ids(read(i18n.LOCALES / "messages.pot"))
    seen = 0
    for script in (ROOT / "overlay" / "pages" / "static").glob("*.js"):
        with script.open("rb") as file:
            found = {m if isinstance(m, str) else tuple(x for x in m if x)
                     for _, m, _, _ in extract("javascript", file, keywords={"_": None, "ngettext": (1, 2)})}
        found = {m if isinstance(m, str) or len(m) == 2 else m[0] for m in found}
        assert found <= pot, (script.name, sorted(map(str, found - pot)))
        seen += len(found)
    assert seen > 50  # the scripts were read (sound.js alone has no words)


MARKUP = '"&<>'  # a translation that adds or drops one breaks the HTML or the JSON around it


@pytest.mark.parametrize("code", SHIPPED)
def test_each_shipped_catalog_translates_every_message(code: str) -> None:
    catalog = read(i18n.po_path(code), code)
    pot = ids(read(i18n.LOCALES / "messages.pot"))
    missing = pot - ids(catalog)
    assert not missing, f"{code}: not in the catalog (run `make messages`): {sorted(map(str, missing))}"
    problems = []
    for m in catalog:
        if not m.id:
            continue
        forms = [m.string] if isinstance(m.string, str) else list(m.string)
        source = m.id if isinstance(m.id, str) else m.id[0]
        if m.fuzzy or not all(forms):
            problems.append(f"untranslated: {source!r}")
            continue
        want = sorted(PLACEHOLDER.findall(m.id if isinstance(m.id, str) else m.id[1]))
        for form in forms:
            if sorted(PLACEHOLDER.findall(form)) != want:
                problems.append(f"{source!r} -> {form!r}: placeholders or tags differ")
            elif [form.count(c) for c in MARKUP] != [source.count(c) for c in MARKUP]:
                problems.append(f"{source!r} -> {form!r}: quotes, & or angle brackets differ")
    assert not problems, f"{code}: " + "\n".join(problems)


def test_a_language_is_picked_from_what_people_type() -> None:
    assert [i18n.pick(x) for x in ("it", "it-IT", "es_ES", "IT", "fr", "", None, "xx-it")] == [
        "it", "it", "es", "it", "en", "en", "en", "en"]
    assert i18n.pick("fr", "es") == "es"  # the first known one


def test_config_language_is_checked_and_named_when_wrong(tmp_path: Path) -> None:
    base = "steps:\n  - {id: a, title: A}\n"
    assert parse_config(base, base_dir=tmp_path).language == "en"
    assert parse_config(base + "language: it-IT\n", base_dir=tmp_path).language == "it"
    wrong = r"language \(line 3\): unknown language 'fr'; expected one of: en, it, es"
    with pytest.raises(ConfigError, match=wrong):
        parse_config(base + "language: fr\n", base_dir=tmp_path)


# --- the same figure, worded in each language ------------------------------------------------

T = datetime(2026, 11, 1, 12, tzinfo=UTC)
GOAL = Goal(units=8, unit="lesson", unit_plural="lessons")
DEADLINE = Deadline(at=T + timedelta(days=30), label="final")


def test_deadline_and_pace_in_each_language() -> None:
    en, it, es = language("en"), language("it"), language("es")
    day = 86400
    assert [texts.days_text(en, s) for s in (90.7 * day, day + 5, 64_200, -3 * day, -60)] == [
        "90 days left", "1 day left", "17h 50m left", "3 days past", "1m past"]
    assert [texts.days_text(it, s) for s in (90.7 * day, day + 5, 64_200, -3 * day)] == [
        "90 giorni rimasti", "1 giorno rimasto", "17 h 50 min rimasti", "3 giorni fa"]
    assert [texts.days_text(es, s) for s in (90.7 * day, day + 5, -60)] == [
        "quedan 90 días", "queda 1 día", "hace 1 min"]
    p = pacing(GOAL, DEADLINE, 1, T, T + timedelta(days=20))
    assert p is not None
    assert texts.needed(en, p) == "1 lesson every 1.4 days"
    assert "1,4" in texts.needed(it, p) and "1,4" in texts.needed(es, p)  # their decimal comma
    assert texts.day(it, T.date()) == "dom 1 nov"
    assert texts.day(es, T.date()) == "dom 1 nov"
    assert texts.day(en, T.date()) == "Sun 1 Nov"


# --- pages: ?lang= and language: ------------------------------------------------------------

PAGES = ["/", "/control", "/history", "/history/1", "/overlay/timer", "/overlay/step", "/overlay/failures",
         "/overlay/deadline", "/overlay/bar", "/overlay/nope"]
WORD = {"en": "History", "it": "Cronologia", "es": "Historial"}


async def serve(config: Config, clock: FakeClock) -> TestClient[web.Request, web.Application]:
    app = build_app(config, Storage(config.storage_path, config.steps), clock=clock)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


def html_lang(text: str) -> str:
    match = re.search(r'<html lang="([^"]*)"', text)
    assert match, text[:200]
    return match.group(1)


async def test_lang_sets_every_page_and_its_html_lang(
    make_config: Callable[..., Config], clock: FakeClock
) -> None:
    client = await serve(make_config(), clock)
    try:
        assert (await client.post("/api/commands", json={"command": "start"})).status == 200
        for path in PAGES:
            for query, want in (("", "en"), ("?lang=it", "it"), ("?lang=es-ES", "es"), ("?lang=xx", "en")):
                answer = await client.get(path + query)
                assert answer.status in (200, 404), path
                assert html_lang(await answer.text()) == want, (path, query)
        control = await (await client.get("/control?lang=it")).text()
        assert f">{WORD['it']}," in control and 'class="fail-btn">Segna errore<' in control
        assert 'id="so-words"' in control  # the scripts' words come with the page
        assert 'id="so-words"' not in await (await client.get("/control")).text()  # English: none needed
        history = await (await client.get("/history?lang=es")).text()
        assert f"<h1>{WORD['es']}</h1>" in history
        assert 'href="/control?lang=es"' in history  # the language follows the links
    finally:
        await client.close()


async def test_config_language_is_the_default_and_lang_overrides_it(
    make_config: Callable[..., Config], clock: FakeClock
) -> None:
    from .conftest import ROUTINE

    client = await serve(make_config(ROUTINE + "language: it\n"), clock)
    try:
        assert html_lang(await (await client.get("/overlay/timer")).text()) == "it"
        assert f"<h1>{WORD['it']}</h1>" in await (await client.get("/history")).text()
        assert f"<h1>{WORD['en']}</h1>" in await (await client.get("/history?lang=en")).text()
        # The API stays in English, the catalogs' source: each door words it for its reader.
        answer = await client.post("/api/commands", json={"command": "pause"})
        assert answer.status == 409
        assert (await answer.json())["error"] == core.NoActiveSession.message
    finally:
        await client.close()


def every_refusal() -> list[type[core.Refused]]:
    """Every Refused subclass the service can raise, however deep (focus's are in their module)."""
    import overlay.app  # noqa: F401  (every module a command can reach is loaded)
    found: list[type[core.Refused]] = []
    todo = list(core.Refused.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return found


def test_every_refusal_reads_well_and_is_in_the_catalog() -> None:
    refusals = every_refusal()
    assert {"NoActiveSession", "NoFocus", "BreakIsOver", "NoBoundaryDue"} <= {c.__name__ for c in refusals}
    pot = ids(read(i18n.LOCALES / "messages.pot"))
    for cls in refusals:
        assert cls.message in pot, cls.__name__
        for code in SHIPPED:
            assert language(code)(cls.message) != cls.message, (code, cls.__name__)
    assert str(core.NOTE_MAX) in core.NoteTooLong.message


@pytest.mark.parametrize("code", SHIPPED)
def test_the_dock_has_the_words_of_every_refusal(code: str) -> None:
    """The dock shows a refused command's reason in its own language: the page carries them."""
    words = language(code).page_messages(*DOCK_WORDS)
    missing = [cls.__name__ for cls in every_refusal() if cls.message not in words]
    assert not missing


def test_messages_for_a_page_map_plural_categories_to_forms() -> None:
    words: dict[str, Any] = language("it").page_messages("overlay.js")
    plurals = {k: v for k, v in words.items() if isinstance(v, list)}
    assert plurals and all(len(v) == 3 for v in plurals.values())
    assert words["plural_index"] == {"one": 0, "many": 1, "other": 2}
    assert language("en").page_messages("overlay.js") == {}


def test_no_message_hides_inside_an_f_string() -> None:
    """Babel's Python reader takes an f-string as one token: lang("...") inside one is never
    extracted, and shows in English in every language."""
    import ast

    hidden = []
    for path in (ROOT / "overlay").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.JoinedStr):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Call) and getattr(inner.func, "id", None) in ("lang", "_"):
                        hidden.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert not hidden, hidden
