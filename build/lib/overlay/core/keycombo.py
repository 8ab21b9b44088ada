"""Key combinations for global hotkeys: parsing config text, and matching key events.

Pure: imports nothing from pynput or Xlib, so the config loader and the CLI stay fast.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

MODIFIERS: tuple[str, ...] = ("ctrl", "alt", "shift", "cmd")

# pynput's key names (its Key enum), minus the left/right variants and AltGr, which
# would never match because keys are matched by what they do, not by which side they are.
NAMED_KEYS: frozenset[str] = frozenset(
    {
        "space", "enter", "tab", "esc", "backspace", "delete", "insert",
        "home", "end", "page_up", "page_down", "up", "down", "left", "right",
        "pause", "print_screen", "scroll_lock", "menu",
        "media_play_pause", "media_volume_mute", "media_volume_down",
        "media_volume_up", "media_previous", "media_next",
        *(f"f{n}" for n in range(1, 21)),
    }
)  # fmt: skip

_ALIASES = {
    "control": "ctrl",
    "super": "cmd",
    "win": "cmd",
    "return": "enter",
    "escape": "esc",
}

# '+' is the separator and a space is spelled "space", so neither is a character key.
_CHAR_KEYS = frozenset(string.ascii_lowercase + string.digits + string.punctuation) - {"+"}

# Ctrl+Alt+Shift: Ctrl+Alt+letter is taken by Word and Google Docs (footnote, views),
# JetBrains IDEs (refactorings) and GNOME (terminal, lock screen), and since the listener
# does not swallow keys the focused app would act on them too. R is skipped (GNOME's
# screencast shortcut), and so are arrows and Page keys (workspace moves in GNOME and KDE).
DEFAULT_HOTKEYS: dict[str, str] = {
    "<ctrl>+<alt>+<shift>+s": "start",
    "<ctrl>+<alt>+<shift>+n": "next",
    "<ctrl>+<alt>+<shift>+p": "prev",
    "<ctrl>+<alt>+<shift>+<space>": "toggle-pause",
    "<ctrl>+<alt>+<shift>+f": "fail",
    "<ctrl>+<alt>+<shift>+u": "undo-fail",
    "<ctrl>+<alt>+<shift>+e": "finish",
    "<ctrl>+<alt>+<shift>+x": "reset",
}


def parse_combo(text: str) -> str:
    """Returns the canonical form of a combination like "<ctrl>+<alt>+n", which pynput's
    HotKey.parse also accepts; raises ValueError with a message meant for the user."""
    return _render(combo_keys(text))


def combo_keys(text: str) -> frozenset[str]:
    """The key names in a combination, e.g. {"ctrl", "alt", "n"}; raises ValueError."""
    if not text.strip():
        raise ValueError("empty key combination")
    parts = [part.strip() for part in text.split("+")]
    if "" in parts:
        raise ValueError(f"empty key in {text!r} ('+' joins keys, so it cannot be a key itself)")
    names: list[str] = []
    for part in parts:
        name = _key_name(part)
        if name in names:
            raise ValueError(f"key {name!r} appears twice in {text!r}")
        names.append(name)
    keys = [name for name in names if name not in MODIFIERS]
    if not keys:
        raise ValueError(f"{text!r} needs a key besides the modifiers")
    if len(keys) > 1:
        raise ValueError(f"{text!r} has {len(keys)} keys besides the modifiers; use one")
    if len(keys) == len(names):
        raise ValueError("a combination needs at least one modifier (<ctrl>, <alt>, <shift>, <cmd>)")
    if set(names) == {"shift", keys[0]} and keys[0] in _CHAR_KEYS:
        raise ValueError(f"{text!r} would fire while typing; add <ctrl>, <alt> or <cmd>")
    return frozenset(names)


def _key_name(part: str) -> str:
    bracketed = len(part) > 2 and part.startswith("<") and part.endswith(">")
    raw = part[1:-1].strip() if bracketed else part
    name = raw.lower()
    if len(name) == 1 and name in _CHAR_KEYS:
        return name
    name = _ALIASES.get(name, name)
    if name in MODIFIERS or name in NAMED_KEYS:
        return name
    hint = ""
    if "-" in raw and len(raw) > 1:
        hint = " (join keys with '+', e.g. '<ctrl>+<alt>+n')"
    else:
        import difflib  # only on this error path, to keep the CLI's import light

        close = difflib.get_close_matches(name, [*MODIFIERS, *NAMED_KEYS, *_ALIASES], n=1, cutoff=0.75)
        if close:
            hint = f" (did you mean {close[0]!r}?)"
    raise ValueError(f"unknown key {raw!r}{hint}")


def _render(names: frozenset[str]) -> str:
    mods = [f"<{name}>" for name in MODIFIERS if name in names]
    (key,) = names.difference(MODIFIERS)
    return "+".join([*mods, key if key in _CHAR_KEYS else f"<{key}>"])


class ComboMatcher:
    """Turns key presses and releases into combination presses and releases.

    A release is paired with its press by keycode, so a release reported under another
    name (Alt becomes Meta while Shift is down) cannot leave a key stuck. A combination
    fires when the keys held are exactly its keys; a press of a key already down (X's
    auto-repeat) does nothing.
    """

    def __init__(self, combos: Mapping[str, frozenset[str]]) -> None:
        self._combos = dict(combos)
        self._down: dict[int, str] = {}
        self._active: set[str] = set()

    def press(self, code: int, key: str) -> list[str]:
        """The combinations this press completes."""
        if code in self._down:
            return []
        self._down[code] = key
        held = set(self._down.values())
        fired = [c for c, keys in self._combos.items() if keys == held and c not in self._active]
        self._active.update(fired)
        return fired

    def release(self, code: int) -> list[str]:
        """The combinations this release breaks."""
        key = self._down.pop(code, None)
        if key is None or key in self._down.values():
            return []
        ended = [c for c in self._active if key in self._combos[c]]
        self._active.difference_update(ended)
        return ended
