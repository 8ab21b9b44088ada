"""Languages: gettext catalogs managed with Babel, one `Language` per code.

The catalogs are plain .po files in locales/ (`make messages` extracts and updates them); they are
read once per language when first asked for, so nothing is compiled at build time. English is
the source language: its texts are the message ids themselves, and Babel is imported only for
another language or a date (the CLI starts fast).
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from functools import cache, cached_property
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from babel import Locale
    from babel.messages.catalog import Catalog

LOCALES = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
SOURCE = "en"
LANGUAGES = ("en", "it", "es")  # each shipped complete: tests/test_i18n.py checks every message


def pick(*wanted: str | None) -> str:
    """The first shipped language among `wanted` ("it", "it-IT", "es_ES", "IT"), else English."""
    for text in wanted:
        code = (text or "").strip().replace("_", "-").split("-")[0].lower()
        if code in LANGUAGES:
            return code
    return SOURCE


def po_path(code: str) -> Path:
    return LOCALES / code / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def catalog(code: str) -> Catalog | None:
    """The shipped .po catalog of a language; None for the source language."""
    if code == SOURCE:
        return None
    from babel.messages.pofile import read_po

    with po_path(code).open("rb") as file:
        return read_po(file, locale=code, domain=DOMAIN)


class Language:
    def __init__(self, code: str, translations: gettext.NullTranslations) -> None:
        self.code, self.translations = code, translations

    @cached_property
    def locale(self) -> Locale:
        """Babel's data for dates and numbers in this language."""
        from babel import Locale

        return Locale.parse(self.code)

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, one: str, many: str, n: int) -> str:
        return self.translations.ngettext(one, many, n)

    def __call__(self, message: str, **values: Any) -> str:
        """The translated text with %(name)s values filled in."""
        text = self.translations.gettext(message)
        return text % values if values else text

    def plural(self, one: str, many: str, count: int, **values: Any) -> str:
        """A plural: %(num)s is the count, as in Jinja: ngettext("%(num)s day", "%(num)s days", n)."""
        return self.translations.ngettext(one, many, count) % {"num": count, **values}

    def page_messages(self, *sources: str) -> dict[str, Any]:
        """The translations a page's scripts need (messages found in those files), for its JSON.

        Empty for English, where a script's own text is the message. A plural is [forms...] with
        "plural_index" mapping each CLDR category (what Intl.PluralRules names) to its form.
        """
        return _page_messages(self.code, frozenset(sources))


@cache
def _page_messages(code: str, sources: frozenset[str]) -> dict[str, Any]:
    cat = catalog(code)
    if cat is None:
        return {}
    out: dict[str, Any] = {}
    for message in cat:
        if not message.id or not message.string or message.fuzzy:
            continue
        if not any(Path(path).name in sources for path, _ in message.locations):
            continue
        if isinstance(message.id, str):
            out[message.id] = message.string
        else:
            out[message.id[0]] = list(message.string)
    if any(isinstance(v, list) for v in out.values()):
        out["plural_index"] = plural_index(code)
    return out


@cache
def language(code: str) -> Language:
    """The Language for a shipped code (anything else: English)."""
    code = pick(code)
    cat = catalog(code)
    if cat is None:
        return Language(code, gettext.NullTranslations())
    from babel.messages.mofile import write_mo
    from babel.support import Translations

    buffer = BytesIO()
    write_mo(buffer, cat)
    buffer.seek(0)
    return Language(code, Translations(buffer, domain=DOMAIN))


@cache
def plural_index(code: str) -> Mapping[str, int]:
    """CLDR plural category -> the catalog's plural form, found by asking both about many counts."""
    from babel import Locale

    cat = catalog(code)
    expr = gettext.c2py(cat.plural_expr if cat is not None else "(n != 1)")
    locale = Locale.parse(code)
    out: dict[str, int] = {}
    for n in [*range(0, 1001), 10**5, 10**6, 2 * 10**6, 10**6 + 1, 10**7]:
        category, index = locale.plural_form(n), expr(n)
        if out.setdefault(category, index) != index:  # pragma: no cover - a catalog/CLDR mismatch
            raise ValueError(f"{code}: plural category {category!r} maps to two forms")
    return out



def N_(message: str) -> str:
    """Marks a message for the catalogs where it is translated later, by its reader."""
    return message


class Said(str):
    """An English text that remembers its message and values, so a page can word it in its language.

    It is the filled-in text wherever a str is expected (logs, the API's "reason"); `words()` is
    what goes to the pages: [message, values].
    """

    message: str
    values: dict[str, str]

    def __new__(cls, message: str, **values: object) -> Said:
        shown = {k: str(v) for k, v in values.items()}
        self = super().__new__(cls, message % shown if shown else message)
        self.message, self.values = message, shown
        return self

    def words(self) -> list[object]:
        return [self.message, self.values]


def words_of(text: str) -> list[object] | None:
    return text.words() if isinstance(text, Said) else None
