"""Global hotkeys: the service without X, then under a real Xvfb (the guard: test_hotkey_guard.py)."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any

import pytest

from overlay.core import commands
from overlay.core.keycombo import DEFAULT_HOTKEYS, MODIFIERS, NAMED_KEYS, parse_combo
from overlay.core.session import Command
from overlay.doors.hotkeys import listener as hotkeys
from overlay.doors.hotkeys.listener import (
    NO_DISPLAY,
    NO_RECORD,
    NOT_XORG,
    X_GONE,
    HotkeyService,
    HotkeyStatus,
    x_key_names,
)
from overlay.i18n import Said

from .conftest import require_real
from .xvfb import Xvfb

CONFIRM = frozenset({"reset", "finish"})

NOT_INSTALLED = "global hotkeys are an extra: install study-overlay[hotkeys] (pynput)"


def test_status_to_dict() -> None:
    status = HotkeyStatus("active", "listening on :1", "reset")
    assert status.to_dict() == {
        "state": "active", "reason": "listening on :1", "words": None, "confirm": "reset", "checking": False,
        "heard": None}
    heard = HotkeyStatus("active", "listening on :1", checking=True, heard=("<ctrl>+<alt>+n", "next", 2))
    assert heard.to_dict()["heard"] == {"combo": "<ctrl>+<alt>+n", "command": "next", "n": 2}
    # A reason we word ourselves carries its message, so the dock can show it in its language.
    said = HotkeyStatus("active", Said("listening on %(display)s", display=":1"))
    assert said.to_dict()["reason"] == "listening on :1"
    assert said.to_dict()["words"] == ["listening on %(display)s", {"display": ":1"}]


# --- the service without X -------------------------------------------------------------


class Recorder:
    """The submit and on_status callbacks the server would pass, recording what they get."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.submitted: list[str] = []
        self.statuses: list[HotkeyStatus] = []
        self.fail_on = fail_on

    async def submit(self, command: Command) -> object:
        if command.name == self.fail_on:
            raise RuntimeError(f"{command.name} broke")
        self.submitted.append(command.name)
        return None

    def service(self, bindings: Mapping[str, str] = DEFAULT_HOTKEYS, **kwargs: Any) -> HotkeyService:
        typed = {combo: commands.simple(name) for combo, name in bindings.items()}
        return HotkeyService(typed, self.submit, self.statuses.append, **kwargs)

    @property
    def confirms(self) -> list[str | None]:
        return [s.confirm for s in self.statuses]


def opening_threads() -> list[threading.Thread]:
    """The service's short-lived thread that connects to X; it ends soon after start() returns."""
    return [t for t in threading.enumerate() if t.name == "hotkeys-open"]


async def until(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def test_without_display_hotkeys_are_off_with_one_log_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    rec = Recorder()
    service = rec.service()
    with caplog.at_level(logging.INFO, logger="study_overlay.hotkeys"):
        await service.start()
        await service.stop()
    assert service.status == HotkeyStatus("off", NO_DISPLAY)
    assert rec.statuses == [HotkeyStatus("off", NO_DISPLAY)]
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", f"global hotkeys off: {NO_DISPLAY}")
    ]


def test_a_malformed_binding_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="unknown key 'ctlr'"):
        Recorder().service(bindings={"<ctlr>+n": "next"})


async def test_with_no_bindings_hotkeys_are_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    rec = Recorder()
    service = rec.service(bindings={})
    await service.start()
    assert service.status == HotkeyStatus("off", "no hotkeys configured")


@pytest.mark.filterwarnings("ignore::ResourceWarning")
async def test_a_display_nobody_serves_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("Xlib")
    monkeypatch.setenv("DISPLAY", ":0")
    rec = Recorder()
    service = rec.service(display=":4093")
    await service.start()
    assert service.status.state == "error"
    assert service.status.reason.startswith("cannot open display :4093:")
    await service.stop()
    # python-xlib leaves its sockets open when it cannot connect; collect them here, under
    # this test's filter, rather than in whichever test the garbage collector next runs.
    # The opening thread holds them until it ends, which on a busy machine is after start().
    await until(lambda: not opening_threads(), "the opening thread to end")
    gc.collect()


async def test_without_python_xlib_hotkeys_say_pynput_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setitem(sys.modules, "Xlib.display", None)  # makes the import fail
    service = Recorder().service()
    await service.start()
    assert service.status == HotkeyStatus("error", NOT_INSTALLED)


def test_every_key_name_has_an_x_keysym() -> None:
    pytest.importorskip("Xlib")
    names = x_key_names()
    assert 0 not in names  # a misspelt keysym name resolves to 0
    assert set(names.values()) == NAMED_KEYS | set(MODIFIERS)


# --- the service under a real Xvfb -------------------------------------------------------

xvfb = pytest.mark.xvfb


@pytest.fixture
def xserver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Xvfb]:
    require_real("Xvfb", "xdotool")
    with Xvfb() as server:
        monkeypatch.setenv("DISPLAY", server.display)
        yield server


Start = Callable[..., Awaitable[tuple[HotkeyService, Recorder]]]


@pytest.fixture
async def started() -> AsyncIterator[Start]:
    services: list[HotkeyService] = []

    async def start(rec: Recorder | None = None, **kwargs: Any) -> tuple[HotkeyService, Recorder]:
        rec = rec or Recorder()
        service = rec.service(**kwargs)
        services.append(service)
        await service.start()
        assert service.status.state == "active", service.status
        return service, rec

    yield start
    for service in services:
        await service.stop()


def keys(combo: str) -> str:
    """xdotool's spelling of a canonical combination."""
    names = {"cmd": "super", "enter": "Return", "esc": "Escape"}
    return "+".join(names.get(k, k) for k in combo.replace("<", "").replace(">", "").split("+"))


def combo_of(command: str) -> str:
    return next(keys(c) for c, cmd in DEFAULT_HOTKEYS.items() if cmd == command)


async def press(server: Xvfb, *args: str) -> None:
    await asyncio.to_thread(server.xdotool, *args)


@xvfb
async def test_each_default_hotkey_submits_its_command(xserver: Xvfb, started: Start) -> None:
    service, rec = await started(confirm_window=30.0)

    def prompting(command: str) -> Callable[[], bool]:
        return lambda: service.status.confirm == command

    def submitted(count: int) -> Callable[[], bool]:
        return lambda: len(rec.submitted) == count

    for count, (combo, command) in enumerate(DEFAULT_HOTKEYS.items(), start=1):
        await press(xserver, "key", keys(combo))
        if command in CONFIRM:
            await until(prompting(command), f"{command}'s prompt")
            assert len(rec.submitted) == count - 1
            await asyncio.sleep(0.6)  # past the cooldown
            await press(xserver, "key", keys(combo))
        await until(submitted(count), f"{command} to be submitted")
    assert rec.submitted == list(DEFAULT_HOTKEYS.values())
    assert service.status.confirm is None


@xvfb
async def test_modifier_order_and_release_order_do_not_matter(xserver: Xvfb, started: Start) -> None:
    # With Shift down, X names the Alt key Meta: pressed after Shift, or released before it.
    _, rec = await started()
    hold = ["keydown", "shift", "keydown", "alt", "keydown", "ctrl"]
    await press(xserver, *hold, "key", "n", "keyup", "alt", "keyup", "ctrl", "keyup", "shift")
    await press(xserver, "key", "ctrl+shift+n")  # fires only if Alt were still taken as down
    await press(xserver, "key", combo_of("prev"))
    await until(lambda: "prev" in rec.submitted, "prev")
    assert rec.submitted == ["next", "prev"]


@xvfb
async def test_a_held_key_fires_once(xserver: Xvfb, started: Start) -> None:
    _, rec = await started()
    # 1.5 s is past X's auto-repeat delay (660 ms): Xvfb sends repeated presses meanwhile.
    await press(xserver, "keydown", combo_of("next"), "sleep", "1.5", "keyup", combo_of("next"))
    await press(xserver, "key", combo_of("prev"))  # processed in order, so it marks the end
    await until(lambda: "prev" in rec.submitted, "prev")
    assert rec.submitted == ["next", "prev"]


@xvfb
async def test_the_other_ctrl_going_down_while_held_fires_nothing_more(xserver: Xvfb, started: Start) -> None:
    # Later than the cooldown, which would hide a second firing. Not "key Control_R":
    # xdotool's keyup of a modifier lets go of the left Ctrl too.
    _, rec = await started()
    combo = combo_of("next")
    held = ["keydown", combo, "sleep", "0.6", "keydown", "Control_R"]
    await press(xserver, *held, "keyup", combo, "keyup", "Control_R")
    await press(xserver, "key", combo_of("prev"))
    await until(lambda: "prev" in rec.submitted, "prev")
    assert rec.submitted == ["next", "prev"]


async def hold_next_with_repeat_pairs(xserver: Xvfb, rec: Any) -> None:
    """Hold "next" while X sends two release/press pairs 0.6 s apart; then "prev" once."""
    combo = combo_of("next")
    pair = ["sleep", "0.6", "keyup", "--delay", "0", "n", "keydown", "--delay", "0", "n"]
    await press(xserver, "keydown", combo, *pair, *pair, "sleep", "0.1", "keyup", combo)
    await press(xserver, "key", combo_of("prev"))
    await until(lambda: "prev" in rec.submitted, "prev")
    assert rec.submitted == ["next", "prev"]


@xvfb
async def test_repeat_as_release_press_pairs_fires_once(xserver: Xvfb, started: Start) -> None:
    # What a server with non-detectable auto-repeat sends, spaced wider than the cooldown.
    _, rec = await started()
    await hold_next_with_repeat_pairs(xserver, rec)


@xvfb
async def test_repeat_pairs_fire_once_when_the_listener_thread_lags(
    xserver: Xvfb, started: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A loaded machine can hold the listener thread up between a release and the press X
    # sent right after it; the pair is still auto-repeat, whenever the thread gets to it.
    opened = hotkeys._open_listener

    def lagging(combos: Any, on_key: Callable[..., None], on_end: Any) -> Any:
        def late(combo: str, pressed: bool, *rest: Any) -> None:
            on_key(combo, pressed, *rest)
            if not pressed:
                time.sleep(0.15)

        return opened(combos, late, on_end)

    monkeypatch.setattr(hotkeys, "_open_listener", lagging)
    _, rec = await started()
    await hold_next_with_repeat_pairs(xserver, rec)


@xvfb
async def test_x_second_press_within_the_cooldown_is_ignored(xserver: Xvfb, started: Start) -> None:
    _, rec = await started(cooldown=30.0)
    await press(xserver, "key", combo_of("next"), "sleep", "0.3", "key", combo_of("next"))
    await press(xserver, "key", combo_of("prev"))
    await until(lambda: "prev" in rec.submitted, "prev")
    assert rec.submitted == ["next", "prev"]


@xvfb
async def test_a_press_after_the_cooldown_runs(xserver: Xvfb, started: Start) -> None:
    _, rec = await started(cooldown=0.2)
    await press(xserver, "key", combo_of("next"), "sleep", "0.8", "key", combo_of("next"))
    await until(lambda: len(rec.submitted) == 2, "two presses")
    assert rec.submitted == ["next", "next"]


@xvfb
async def test_reset_needs_a_second_press(xserver: Xvfb, started: Start) -> None:
    service, rec = await started(confirm_window=30.0)
    await press(xserver, "key", combo_of("reset"))
    await until(lambda: service.status.confirm == "reset", "the confirmation prompt")
    assert service.status.to_dict()["confirm"] == "reset"
    assert rec.submitted == []
    await asyncio.sleep(0.6)  # past the cooldown, so the press counts
    await press(xserver, "key", combo_of("reset"))
    await until(lambda: rec.submitted == ["reset"], "reset")
    assert service.status.confirm is None
    assert rec.confirms[-2:] == ["reset", None]


@xvfb
async def test_an_unconfirmed_reset_expires(xserver: Xvfb, started: Start) -> None:
    service, rec = await started(confirm_window=0.5)
    await press(xserver, "key", combo_of("reset"))
    await until(lambda: rec.confirms[-1:] == [None] and "reset" in rec.confirms, "expiry")
    await press(xserver, "key", combo_of("reset"))
    await until(lambda: service.status.confirm == "reset", "a new prompt")
    assert rec.submitted == []


@xvfb
async def test_a_failing_command_does_not_stop_the_hotkeys(
    xserver: Xvfb, started: Start, caplog: pytest.LogCaptureFixture
) -> None:
    _, rec = await started(Recorder(fail_on="next"))
    await press(xserver, "key", combo_of("next"))
    await press(xserver, "key", combo_of("prev"))
    await until(lambda: rec.submitted == ["prev"], "prev")
    assert "hotkey command next failed" in caplog.text


@xvfb
async def test_the_x_server_dying_is_reported_and_the_service_lives_on(xserver: Xvfb, started: Start) -> None:
    service, rec = await started()
    await press(xserver, "key", combo_of("next"))
    await until(lambda: rec.submitted == ["next"], "next")
    xserver.stop()
    await until(lambda: service.status.state == "error", "the error status")
    assert service.status == HotkeyStatus("error", X_GONE)
    assert rec.statuses[-1] == HotkeyStatus("error", X_GONE)
    await service.stop()
    assert service.status == HotkeyStatus("error", X_GONE)


@xvfb
async def test_stop_ends_the_listener_thread_without_a_key_event(xserver: Xvfb, started: Start) -> None:
    before = set(threading.enumerate())
    service, _ = await started()
    listeners = set(threading.enumerate()) - before - set(opening_threads())
    assert listeners
    await service.stop()
    assert [t for t in listeners if t.is_alive()] == []
    assert service.status == HotkeyStatus("off", "stopped")


@xvfb
async def test_an_x_server_without_record_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    require_real("Xvfb", "xdotool")
    with Xvfb("-extension", "RECORD") as server:
        monkeypatch.setenv("DISPLAY", server.display)
        service = Recorder().service(display=server.display)
        await service.start()
        assert service.status == HotkeyStatus("error", NO_RECORD)
        await service.stop()


@xvfb
async def test_hotkeys_start_on_an_x_server_that_ends_when_its_last_client_leaves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Xvfb without -noreset resets at that moment and drops whoever connects meanwhile;
    # with -terminate it exits instead, so a gap between connections cannot go unseen.
    require_real("Xvfb", "xdotool")
    with Xvfb("-terminate") as server:
        monkeypatch.setenv("DISPLAY", server.display)
        rec = Recorder()
        service = rec.service()
        await service.start()
        try:
            assert service.status.state == "active", service.status
            await press(server, "key", combo_of("next"))
            await until(lambda: rec.submitted == ["next"], "next")
        finally:
            await service.stop()


@xvfb
async def test_without_pynput_hotkeys_say_so(xserver: Xvfb, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynput", None)  # makes the import fail
    service = Recorder().service()
    await service.start()
    assert service.status == HotkeyStatus("error", NOT_INSTALLED)


@xvfb
async def test_another_pynput_backend_is_named_not_waited_on(
    xserver: Xvfb, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pynput import keyboard
    from pynput.keyboard import _dummy

    monkeypatch.setattr(keyboard, "Listener", _dummy.Listener)  # what PYNPUT_BACKEND=dummy loads
    service = Recorder().service()
    await service.start()
    assert service.status == HotkeyStatus("error", NOT_XORG)


@xvfb
async def test_a_frozen_x_server_cannot_hang_start(xserver: Xvfb, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hotkeys, "_OPEN_TIMEOUT", 1.0)
    before = set(threading.enumerate())
    xserver.freeze()
    service = Recorder().service(display=xserver.display)
    await service.start()
    assert service.status == HotkeyStatus("error", "X server did not answer within 1 s")
    xserver.stop()
    await service.stop()
    await until(lambda: set(threading.enumerate()) <= before, "the opening thread to end")


@xvfb
async def test_under_wayland_the_status_says_what_is_not_seen(
    xserver: Xvfb, started: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    service, _ = await started()
    assert service.status.reason == (
        f"listening on {xserver.display} through XWayland: keys typed into Wayland windows are not seen"
    )


@xvfb
def test_canonical_combinations_parse_in_pynput(xserver: Xvfb) -> None:
    pytest.importorskip("Xlib")
    from pynput import keyboard

    for combo in [*DEFAULT_HOTKEYS, parse_combo("ctrl+alt+space"), parse_combo("<cmd>+<f5>")]:
        assert keyboard.HotKey.parse(combo)
