"""The hotkey guard and X's event times, with literal times: no X, no clock."""

from __future__ import annotations

import pytest

from overlay.doors.hotkeys.guard import HotkeyGuard, XEventTime

CONFIRM = frozenset({"reset", "finish"})


def guard(cooldown: float = 0.4, window: float = 2.0) -> HotkeyGuard:
    return HotkeyGuard(cooldown=cooldown, confirm_window=window, confirm_commands=CONFIRM)


# --- HotkeyGuard: cooldown -------------------------------------------------------------


def test_a_press_runs_its_command() -> None:
    assert guard().press("next", 100.0) == "run"


def test_a_second_press_within_the_cooldown_is_ignored() -> None:
    g = guard(cooldown=0.4)
    assert g.press("next", 100.0) == "run"
    g.release("next", 100.1)
    assert g.press("next", 100.3) == "cooldown"
    g.release("next", 100.35)
    assert g.press("next", 100.45) == "run"  # the cooldown counts from the press that ran


def test_the_cooldown_is_per_command() -> None:
    g = guard(cooldown=0.4)
    assert g.press("next", 100.0) == "run"
    assert g.press("prev", 100.1) == "run"


# --- HotkeyGuard: auto-repeat ----------------------------------------------------------


def test_repeat_sent_as_release_press_pairs_runs_once() -> None:
    # X's default: first repeat after 660 ms, then 25 a second, longer than the cooldown.
    g = guard(cooldown=0.4)
    assert g.press("next", 100.0) == "run"
    verdicts = []
    for i in range(50):
        at = 100.66 + i * 0.04
        g.release("next", at)
        verdicts.append(g.press("next", at + 0.001))
    assert set(verdicts) == {"repeat"}
    g.release("next", 102.8)
    assert g.press("next", 103.0) == "run"


# --- HotkeyGuard: confirmation ---------------------------------------------------------


def test_reset_waits_for_a_second_press() -> None:
    g = guard()
    assert g.press("reset", 100.0) == "confirm"
    assert (g.pending, g.pending_until) == ("reset", 102.0)
    assert g.press("reset", 101.5) == "run"
    assert g.pending is None


def test_a_bounce_does_not_confirm() -> None:
    g = guard(cooldown=0.4)
    assert g.press("finish", 100.0) == "confirm"
    assert g.press("finish", 100.2) == "cooldown"
    assert g.pending == "finish"
    assert g.press("finish", 100.9) == "run"


def test_a_cancelled_confirmation_asks_again() -> None:
    g = guard(window=2.0)
    g.press("reset", 100.0)
    g.cancel_confirm()
    assert g.pending is None
    assert g.press("reset", 100.5) == "confirm"


def test_a_late_second_press_asks_again_even_while_the_prompt_shows() -> None:
    g = guard(window=2.0)
    g.press("reset", 100.0)
    assert g.press("reset", 102.1) == "confirm"
    assert g.pending_until == pytest.approx(104.1)


def test_another_command_cancels_the_confirmation() -> None:
    g = guard()
    g.press("reset", 100.0)
    assert g.press("next", 100.5) == "run"
    assert g.pending is None
    assert g.press("reset", 101.0) == "confirm"


def test_switching_from_reset_to_finish_asks_about_finish() -> None:
    g = guard()
    g.press("reset", 100.0)
    assert g.press("finish", 100.5) == "confirm"
    assert g.pending == "finish"


def test_without_confirm_commands_reset_runs_at_once() -> None:
    g = HotkeyGuard(cooldown=0.4, confirm_window=2.0, confirm_commands=frozenset())
    assert g.press("reset", 100.0) == "run"


# --- X event times -------------------------------------------------------------------


def test_x_event_times_are_seconds() -> None:
    clock = XEventTime()
    assert clock.seconds(1_000) == 1.0
    assert clock.seconds(1_050) == 1.05


def test_x_event_times_run_on_across_the_32_bit_wrap() -> None:
    clock = XEventTime()
    last = 2**32 - 20  # 49.7 days after the X server started
    assert clock.seconds(last) == pytest.approx(last / 1000)
    assert clock.seconds(30) - last / 1000 == pytest.approx(0.05)


def test_an_x_event_stamped_a_little_earlier_steps_back_a_little() -> None:
    clock = XEventTime()
    clock.seconds(10)
    assert clock.seconds(2**32 - 10) == pytest.approx(-0.01)
