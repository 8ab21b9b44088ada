"""Key combinations: the config's spelling, and matching key events (pure, no X)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from overlay.core.keycombo import DEFAULT_HOTKEYS, ComboMatcher, combo_keys, parse_combo

# --- parse_combo -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("<ctrl>+<alt>+n", "<ctrl>+<alt>+n"),
        ("<ctrl>+<alt>+space", "<ctrl>+<alt>+<space>"),
        ("<ctrl>+<alt>+<space>", "<ctrl>+<alt>+<space>"),
        ("ctrl + alt + N", "<ctrl>+<alt>+n"),
        ("<Alt>+<CTRL>+<F5>", "<ctrl>+<alt>+<f5>"),
        ("<shift>+<ctrl>+<alt>+p", "<ctrl>+<alt>+<shift>+p"),
        ("control+super+return", "<ctrl>+<cmd>+<enter>"),
        ("<win>+escape", "<cmd>+<esc>"),
        ("<ctrl>+<shift>+1", "<ctrl>+<shift>+1"),
        ("<cmd>+,", "<cmd>+,"),
        ("<shift>+<f9>", "<shift>+<f9>"),
        ("<ctrl>+<page_down>", "<ctrl>+<page_down>"),
    ],
)
def test_accepted_combinations_come_back_canonical(text: str, canonical: str) -> None:
    assert parse_combo(text) == canonical
    assert parse_combo(canonical) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty key combination"),
        ("   ", "empty key combination"),
        ("<ctlr>+<alt>+n", "unknown key 'ctlr' (did you mean 'ctrl'?)"),
        ("<ctrl>+<alt>+spcae", "unknown key 'spcae' (did you mean 'space'?)"),
        ("ctrl-alt-n", "unknown key 'ctrl-alt-n' (join keys with '+', e.g. '<ctrl>+<alt>+n')"),
        ("<ctrl>+ö", "unknown key 'ö'"),
        ("<ctrl>+<caps_lock>", "unknown key 'caps_lock'"),
        ("n", "a combination needs at least one modifier (<ctrl>, <alt>, <shift>, <cmd>)"),
        ("<f9>", "a combination needs at least one modifier (<ctrl>, <alt>, <shift>, <cmd>)"),
        ("<shift>+n", "'<shift>+n' would fire while typing; add <ctrl>, <alt> or <cmd>"),
        ("<ctrl>+<alt>", "'<ctrl>+<alt>' needs a key besides the modifiers"),
        ("<ctrl>+a+b", "'<ctrl>+a+b' has 2 keys besides the modifiers; use one"),
        ("<ctrl>+<ctrl>+n", "key 'ctrl' appears twice in '<ctrl>+<ctrl>+n'"),
        ("<ctrl>+<control>+n", "key 'ctrl' appears twice in '<ctrl>+<control>+n'"),
        ("<ctrl>++", "empty key in '<ctrl>++' ('+' joins keys, so it cannot be a key itself)"),
        ("<ctrl>+<alt>+", "empty key in '<ctrl>+<alt>+' ('+' joins keys, so it cannot be a key itself)"),
    ],
)
def test_bad_combinations_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_combo(text)
    assert str(caught.value) == message


def test_combo_keys_names_each_key() -> None:
    assert combo_keys("<ctrl>+<alt>+<space>") == {"ctrl", "alt", "space"}
    assert combo_keys("Control+N") == {"ctrl", "n"}


def test_defaults_are_canonical_distinct_and_cover_the_commands() -> None:
    assert all(parse_combo(combo) == combo for combo in DEFAULT_HOTKEYS)
    assert sorted(DEFAULT_HOTKEYS.values()) == sorted(
        ["start", "next", "prev", "toggle-pause", "fail", "undo-fail", "finish", "reset"]
    )


def test_importing_keycombo_loads_no_input_library() -> None:
    code = "import sys, overlay.core.keycombo; print(sorted({'pynput', 'Xlib'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- ComboMatcher ------------------------------------------------------------------------

CTRL, ALT, SHIFT, N, P, CTRL_R = 37, 64, 50, 57, 33, 105


def matcher() -> ComboMatcher:
    return ComboMatcher({"next": combo_keys("<ctrl>+<alt>+n"), "prev": combo_keys("<ctrl>+<alt>+p")})


def test_a_combination_fires_when_its_last_key_goes_down() -> None:
    m = matcher()
    assert m.press(CTRL, "ctrl") == []
    assert m.press(ALT, "alt") == []
    assert m.press(N, "n") == ["next"]
    assert m.release(N) == ["next"]
    assert m.release(ALT) == []


def test_modifier_order_does_not_matter() -> None:
    m = matcher()
    m.press(N, "n")
    m.press(ALT, "alt")
    assert m.press(CTRL, "ctrl") == ["next"]


def test_auto_repeat_presses_of_a_held_key_do_not_fire_again() -> None:
    m = matcher()
    m.press(CTRL, "ctrl")
    m.press(ALT, "alt")
    assert m.press(N, "n") == ["next"]
    assert [m.press(N, "n") for _ in range(20)] == [[]] * 20


def test_the_other_key_of_a_held_name_does_not_fire_again() -> None:
    # The combination is still held: right Ctrl going down adds no key it does not name.
    m = matcher()
    m.press(CTRL, "ctrl")
    m.press(ALT, "alt")
    assert m.press(N, "n") == ["next"]
    assert m.press(CTRL_R, "ctrl") == []
    assert m.release(CTRL_R) == []


def test_tapping_the_last_key_again_fires_again() -> None:
    m = matcher()
    m.press(CTRL, "ctrl")
    m.press(ALT, "alt")
    assert m.press(N, "n") == ["next"]
    assert m.release(N) == ["next"]
    assert m.press(N, "n") == ["next"]
    assert m.release(N) == ["next"]
    assert m.press(P, "p") == ["prev"]


def test_an_extra_key_held_means_another_combination() -> None:
    m = matcher()
    m.press(CTRL, "ctrl")
    m.press(ALT, "alt")
    m.press(SHIFT, "shift")
    assert m.press(N, "n") == []


def test_a_release_is_paired_with_its_press_by_keycode() -> None:
    # X reports Alt released while Shift is down as Meta: the keycode is what matches.
    m = matcher()
    m.press(CTRL, "ctrl")
    m.press(ALT, "alt")
    m.press(N, "n")
    assert m.release(ALT) == ["next"]
    m.release(N)
    m.release(CTRL)
    assert m.press(CTRL, "ctrl") == []
    assert m.press(N, "n") == []  # Alt is up: Ctrl+N is not the combination


def test_one_of_two_keys_with_the_same_name_still_holds_it() -> None:
    m = matcher()
    m.press(CTRL, "ctrl")
    m.press(CTRL_R, "ctrl")
    m.press(ALT, "alt")
    assert m.press(N, "n") == ["next"]
    assert m.release(CTRL_R) == []
    assert m.release(CTRL) == ["next"]


def test_a_release_without_a_press_is_ignored() -> None:
    assert matcher().release(N) == []
