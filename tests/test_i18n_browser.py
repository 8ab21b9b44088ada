"""Every text a viewer or the streamer reads comes from the catalogs: the overlays and the dock in a
real Chromium, /history and the other server-rendered pages, and the CLI.

The trick is a pseudo-language: a catalog made here from the message template, each translation
the English text in ⟦brackets⟧. Whatever is left once the bracketed text, the figures and the
streamer's own words (step titles, notes, labels) are taken out was written in English in the code
and never reached a catalog: the test names it.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from playwright.sync_api import Browser, Page

from overlay import i18n
from overlay.app import build_app
from overlay.config import load_config
from overlay.doors.cli.main import main as cli_main
from overlay.pages import overlays as pages
from overlay.storage.store import Storage

from .browser import AppServer, command, new_page, wait_live

PSEUDO = "fr"  # a language Babel knows (dates, plurals) and we do not ship: the test's own
OWN_WORDS = [  # the streamer's, from config.yaml and the notes they type
    "Review last notes, with a title long enough to wrap", "Watch the lecture", "One project",
    "Course final", "lessons", "lesson", "Lesson", "forgot the base case", "sign error",
    "review", "lecture", "project",  # step ids, shown in the dock's failure log
]
LETTER = re.compile(r"[^\W\d_]")
TECHNICAL = re.compile(  # names that are the same in every language: keys, the product, paths
    r"(?<![\w/])(study-overlay|OBS|JSON|S|P|N|F|U|K|M|Z|Enter|Esc|Shift|Ctrl)(?!\w)|/[\w./?=&|-]*")


def date_words() -> list[str]:
    """Day and month names as Babel's CLDR data writes them: data, not our messages."""
    from babel import Locale

    locale, out = Locale.parse(PSEUDO), []
    for names in (locale.days, locale.months):
        for context in names.values():
            for width in context.values():
                out += [str(v) for v in width.values()]
    return out
ROUTINE = """\
steps:
  - {id: review, title: "Review last notes, with a title long enough to wrap", target: 15m}
  - {id: lecture, title: Watch the lecture, target: 1s, focus: {work: 50m}}
  - {id: project, title: One project}
goal: {units: 8, unit: lesson, unit_plural: lessons}
hotkeys: {enabled: false}
"""


OWN = re.compile("|".join(rf"(?<!\w){re.escape(w)}(?!\w)"
                          for w in sorted(OWN_WORDS + date_words(), key=len, reverse=True)))


# What stays as written in a pseudo translation: placeholders, markup and entities.
KEEP = re.compile(r"(%\(\w+\)[sd]|%[sd%]|<[^>]*>|&\w+;)|([A-Za-z])")
FULLWIDTH = re.compile("[\uff21-\uff3a\uff41-\uff5a]+")


def wrap(text: str) -> str:
    """⟦Ｂｒｅａｋ ｏｖｅｒ⟧: bracketed, its letters fullwidth. A message filled with another
    (a refusal's reason in "%(command)s refused: %(reason)s") keeps the inner one's letters
    plain if that one never reached a catalog, so English nested in a message shows too."""
    def swap(m: re.Match[str]) -> str:
        return m.group(1) or chr(ord(m.group(2)) + 0xFEE0)
    return f"\u27e6{KEEP.sub(swap, text)}\u27e7"


@contextlib.contextmanager
def pseudo_language(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with (i18n.LOCALES / "messages.pot").open("rb") as file:
        template = read_po(file)
    catalog = Catalog(locale=PSEUDO)
    for m in template:
        if not m.id:
            continue
        if isinstance(m.id, str):
            catalog.add(m.id, wrap(m.id), locations=m.locations, flags=m.flags)
        else:
            forms = [wrap(m.id[0])] + [wrap(m.id[1])] * (catalog.num_plurals - 1)
            catalog.add(m.id, forms, locations=m.locations, flags=m.flags)
    po = folder / "messages.po"
    with po.open("wb") as file:
        write_po(file, catalog)
    real = i18n.po_path
    monkeypatch.setattr(i18n, "LANGUAGES", (*i18n.LANGUAGES, PSEUDO))
    monkeypatch.setattr(i18n, "po_path", lambda code: po if code == PSEUDO else real(code))
    caches = [i18n.catalog, i18n.language, i18n.plural_index, i18n._page_messages, pages.environment]
    for cached in caches:
        cached.cache_clear()
    try:
        yield
    finally:
        for cached in caches:
            cached.cache_clear()


def leftovers(found: list[tuple[str, str]]) -> list[str]:
    """What is not a message, a figure or the streamer's own words, with where it was seen."""
    out = []
    for where, text in found:
        rest = FULLWIDTH.sub(" ", text)  # a message's own words; what it was filled with stays
        for piece in re.split(f"[{SEP}\u27e6\u27e7]", rest):
            piece = TECHNICAL.sub(" ", OWN.sub(" ", piece))
            if LETTER.search(piece):  # figures and punctuation are the same in every language
                out.append(f"{where}: {piece.strip()!r}")
    return sorted(set(out))


# Text nodes joined by a separator, so that a message with markup in it (<kbd>Enter</kbd> in a
# sentence) is still one bracketed run; attributes and the title as texts of their own.
SEP = "\u2063"
READ_PAGE = """() => {
  const out = [], parts = [], skip = new Set(["SCRIPT", "STYLE"]);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n; (n = walker.nextNode());) if (!skip.has(n.parentElement.tagName)) parts.push(n.textContent);
  out.push(parts.join("\u2063"));
  for (const el of document.querySelectorAll("[title], [placeholder], [aria-label], [data-confirm]"))
    for (const a of ["title", "placeholder", "aria-label", "data-confirm"]) {
      const v = (el.getAttribute(a) || "").trim();
      if (v) out.push(v);
    }
  out.push(document.title);
  return out;
}"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppServer]:
    at = (datetime.now(UTC) + timedelta(days=6, hours=5)).isoformat(timespec="seconds")
    path = tmp_path / "config.yaml"
    path.write_text(ROUTINE + f"deadline: {{at: '{at}', label: Course final}}\nlanguage: {PSEUDO}\n"
                    f"storage: {{path: {tmp_path / 'study.sqlite3'}}}\n")
    with pseudo_language(tmp_path, monkeypatch):
        config = load_config(path)
        with AppServer(lambda: build_app(config, Storage(config.storage_path, config.steps))) as server:
            server.config_path = path  # type: ignore[attr-defined]
            yield server


def read_all(page: Page, url: str) -> list[tuple[str, str]]:
    page.goto(url)
    wait_live(page)
    return seen_on(page)


def seen_on(page: Page) -> list[tuple[str, str]]:
    where = page.url.split("/", 3)[-1]
    return [(where, text) for text in page.evaluate(READ_PAGE)]


@pytest.mark.chromium
def test_overlays_and_dock_show_only_catalog_text(site: AppServer, browser: Browser) -> None:
    # A previous session with notes, so the review step lists them; then each state in turn.
    command(site, "start")
    for note in ("sign error", "forgot the base case", "sign error", "forgot the base case"):
        command(site, "fail", note=note)
    command(site, "finish")
    seen: list[tuple[str, str]] = []
    with new_page(browser, 1920, 1080) as page:
        for step in (None, "start", "unit-done", "pause", "resume", "next", "finish"):
            if step:
                command(site, step)
            for name in pages.OVERLAYS:
                seen += read_all(page, f"{site.url}/overlay/{name}")
            seen += read_all(page, f"{site.url}/control")
        # The dock's own words: a refusal's reason on hover and in the result line, a done command.
        page.keyboard.press("p")
        page.wait_for_function("() => document.getElementById('so-result').className.includes('is-refused')")
        page.keyboard.press("s")
        page.wait_for_function("() => document.getElementById('so-result').className.includes('is-ok')")
        seen += seen_on(page)
    assert not leftovers(seen), "English outside the catalogs:\n" + "\n".join(leftovers(seen))
    assert sum("\u27e6" in t for _, t in seen) > 50


def test_server_pages_show_only_catalog_text(site: AppServer) -> None:
    import html.parser
    import urllib.error
    import urllib.request

    command(site, "start")
    command(site, "fail", note="sign error")
    command(site, "finish")

    class Texts(html.parser.HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.found: list[str] = []
            self.text: list[str] = []
            self.skip = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in ("script", "style"):
                self.skip += 1
            self.found += [v for k, v in attrs if k in ("title", "aria-label", "placeholder") and v]

        def handle_endtag(self, tag: str) -> None:
            if tag in ("script", "style"):
                self.skip -= 1

        def handle_data(self, data: str) -> None:
            if not self.skip:
                self.text.append(data)

    seen: list[tuple[str, str]] = []
    for path in ("/", "/history", "/history/1", "/history/x", "/history/99", "/overlay/nope"):
        try:
            with urllib.request.urlopen(site.url + path, timeout=5) as answer:
                body = answer.read().decode()
        except urllib.error.HTTPError as exc:
            body = exc.read().decode()
        parser = Texts()
        parser.feed(body)
        seen += [(path, t) for t in [SEP.join(parser.text), *parser.found]]
    assert not leftovers(seen), "English outside the catalogs:\n" + "\n".join(leftovers(seen))


def test_the_cli_prints_only_catalog_text(site: AppServer) -> None:
    config = str(site.config_path)  # type: ignore[attr-defined]
    seen: list[tuple[str, str]] = []
    for args in (["start"], ["fail", "sign", "error"], ["unit-done"], ["status"], ["pause"], ["pause"],
                 ["finish"], ["check-config"], ["export", "--format", "md"]):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            cli_main(["--config", config, "--url", site.url, *args])
        for line in (out.getvalue() + err.getvalue()).splitlines():
            line = line.replace(config, " ").lstrip("#-| ")
            for command_name in args[:1]:  # the command the user typed is echoed back as typed
                line = line.removeprefix(command_name + ":")
            seen.append((args[0], line))
    assert not leftovers(seen), "\n".join(leftovers(seen))
