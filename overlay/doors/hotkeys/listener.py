"""Global hotkeys: a pynput listener thread whose presses go through the common dispatch.

X11 only. pynput is imported when the service starts, because importing it without a
display raises; what is said here about X was checked under Xvfb with pynput 1.8.2.
Key events are judged on the X server's own event times: the listener thread can be
held up for longer than the gaps that tell auto-repeat from a new press.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ...core.commands import CONFIRM
from ...core.keycombo import ComboMatcher, combo_keys
from ...core.session import Command
from ...i18n import N_, Said, words_of
from .guard import HotkeyGuard, XEventTime

log = logging.getLogger("study_overlay.hotkeys")

NO_DISPLAY = Said(N_("no DISPLAY set (hotkeys off; use the CLI or OBS hotkeys)"))
NO_RECORD = Said(N_("X server lacks the RECORD extension"))
X_GONE = Said(N_("X server went away"))
NOT_XORG = Said(N_("pynput is not using its X backend (PYNPUT_BACKEND is set?); hotkeys need it"))
_NO_PYNPUT = Said(N_("global hotkeys are an extra: install study-overlay[hotkeys] (pynput)"))

_OPEN_TIMEOUT = 5.0  # a frozen X server accepts the connection and then never answers
_STOP_WAIT = 1.0
_DRAIN_WAIT = 2.0


@dataclass(frozen=True)
class HotkeyStatus:
    state: str  # "off" | "active" | "error"
    reason: str
    confirm: str | None = None  # the command waiting for a confirming second press
    checking: bool = False  # the setup page's "press it now": presses are heard, not run
    heard: tuple[str, str, int] | None = None  # the last press heard: combo, command, a count

    def to_dict(self) -> dict[str, object]:
        heard = self.heard and {"combo": self.heard[0], "command": self.heard[1], "n": self.heard[2]}
        return {"state": self.state, "reason": self.reason, "words": words_of(self.reason),
                "confirm": self.confirm, "checking": self.checking, "heard": heard}


class HotkeyService:
    """Listens for the bound combinations and submits their commands, one task each."""

    def __init__(
        self,
        bindings: Mapping[str, Command],
        submit: Callable[[Command], Awaitable[object]],
        on_status: Callable[[HotkeyStatus], None],
        *,
        cooldown: float = 0.4,
        confirm_window: float = 2.0,
        confirm_commands: frozenset[str] = CONFIRM,
        display: str | None = None,
    ) -> None:
        self._bindings = dict(bindings)
        self._combos = {combo: combo_keys(combo) for combo in bindings}  # raises ValueError early
        self._submit = submit
        self._on_status = on_status
        self._guard = HotkeyGuard(
            cooldown=cooldown, confirm_window=confirm_window, confirm_commands=confirm_commands
        )
        self._confirm_window = confirm_window
        self._display = display
        self._listener: Any = None
        self._started = False
        self._expiry: asyncio.TimerHandle | None = None
        self._check_end: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.status = HotkeyStatus("off", Said(N_("not started")))

    async def start(self) -> None:
        """Starts listening; never raises, and reports in `status` why hotkeys are off."""
        if self._started:
            return
        self._started = True
        display = self._display if self._display is not None else os.environ.get("DISPLAY")
        if sys.platform in ("win32", "darwin"):
            return self._report("off", Said(N_("global hotkeys work on X11 only, not %(platform)s"),
                                            platform=sys.platform))
        if not self._bindings:
            return self._report("off", Said(N_("no hotkeys configured")))
        if not display:
            return self._report("off", NO_DISPLAY)
        # pynput's X backend connects to $DISPLAY, both when imported and in its thread.
        os.environ["DISPLAY"] = display
        try:
            listener = await self._open()
        except _Unavailable as exc:
            return self._report("error", exc.reason)
        except Exception as exc:  # a bug here must not take the server down with it
            log.exception("global hotkeys failed to start")
            return self._report("error", Said(N_("hotkey listener failed to start: %(error)s"), error=exc))
        if listener.ended_reason is not None:  # it died before we held it, so its news was dropped
            return self._report("error", listener.ended_reason)
        self._listener = listener
        if os.environ.get("WAYLAND_DISPLAY"):
            reason = Said(N_("listening on %(display)s through XWayland: keys typed into Wayland windows "
                             "are not seen"), display=display)
        else:
            reason = Said(N_("listening on %(display)s"), display=display)
        self._report("active", reason)

    async def stop(self) -> None:
        """Stops listening and lets submitted commands finish; returns within a few seconds."""
        self._cancel_expiry()
        if self._check_end is not None:
            self._check_end.cancel()
            self._check_end = None
        listener, self._listener = self._listener, None
        if listener is not None:
            _halt_soon(listener)
            deadline = time.monotonic() + _STOP_WAIT
            while listener.is_alive() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=_DRAIN_WAIT)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self.status.state == "active" or self.status.confirm is not None:
            self._set(HotkeyStatus("off", Said(N_("stopped"))))

    async def _open(self) -> Any:
        loop = asyncio.get_running_loop()
        opened: asyncio.Future[Any] = loop.create_future()

        def settle(listener: Any, error: BaseException | None) -> None:
            if opened.done():  # timed out or cancelled meanwhile: nobody will stop it later
                if listener is not None:
                    _halt_soon(listener)
            elif error is not None:
                opened.set_exception(error)
            else:
                opened.set_result(listener)

        def work() -> None:
            listener, error = None, None
            try:
                listener = _open_listener(
                    self._combos,
                    functools.partial(self._key_event, loop),
                    functools.partial(self._ended, loop),
                )
            except BaseException as exc:  # handed to the loop, which re-raises it in start()
                error = exc
            try:
                loop.call_soon_threadsafe(settle, listener, error)
            except RuntimeError:  # the loop is closed
                if listener is not None:
                    _halt(listener)

        threading.Thread(target=work, name="hotkeys-open", daemon=True).start()
        try:
            return await asyncio.wait_for(opened, _OPEN_TIMEOUT)
        except TimeoutError:
            raise _Unavailable(Said(N_("X server did not answer within %(seconds)s s"),
                                    seconds=f"{_OPEN_TIMEOUT:g}")) from None

    # Called on the listener thread.
    def _key_event(self, loop: asyncio.AbstractEventLoop, combo: str, pressed: bool, at: float) -> None:
        _call_in_loop(loop, self._on_combo, combo, pressed, at)

    def _ended(self, loop: asyncio.AbstractEventLoop, listener: Any, reason: str) -> None:
        _call_in_loop(loop, self._on_listener_end, listener, reason)

    # Called in the loop.
    def check(self, seconds: float) -> None:
        """For `seconds` from now, a bound press is reported as heard and runs nothing (0: stop)."""
        if self._check_end is not None:
            self._check_end.cancel()
            self._check_end = None
        if seconds > 0:
            self._check_end = asyncio.get_running_loop().call_later(seconds, self.check, 0)
        if self.status.checking != (seconds > 0):
            self._set(replace(self.status, checking=seconds > 0))

    def _on_combo(self, combo: str, pressed: bool, at: float) -> None:
        if self._listener is None:
            return
        command = self._bindings[combo]
        if self._check_end is not None:
            if pressed:
                count = self.status.heard[2] + 1 if self.status.heard else 1
                self._set(replace(self.status, heard=(combo, command.name, count)))
            return
        if not pressed:
            self._guard.release(command.name, at)
            return
        verdict = self._guard.press(command.name, at)
        if verdict == "run":
            self._cancel_expiry()
            task = asyncio.get_running_loop().create_task(self._run(command))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif verdict == "confirm":
            self._schedule_expiry()
        else:
            log.debug("hotkey %s ignored (%s)", command.name, verdict)
        self._sync_confirm()

    async def _run(self, command: Command) -> None:
        try:
            await self._submit(command)
        except Exception:
            log.exception("hotkey command %s failed", command.name)

    def _schedule_expiry(self) -> None:
        # The prompt is timed on the loop's clock, as X's cannot be read here; the guard
        # still measures the second press against the first on X's.
        self._cancel_expiry()
        self._expiry = asyncio.get_running_loop().call_later(self._confirm_window, self._expire)

    def _expire(self) -> None:
        self._expiry = None
        self._guard.cancel_confirm()
        self._sync_confirm()

    def _cancel_expiry(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None

    def _on_listener_end(self, listener: Any, reason: str) -> None:
        if listener is not self._listener:
            return  # stopped on purpose
        self._listener = None
        self._cancel_expiry()
        self._guard.cancel_confirm()
        self._report("error", reason)

    def _sync_confirm(self) -> None:
        if self._guard.pending != self.status.confirm:
            self._set(replace(self.status, confirm=self._guard.pending))

    def _report(self, state: str, reason: str) -> None:
        if state == "active":
            log.info("global hotkeys on: %s", reason)
        else:
            log.warning("global hotkeys %s: %s", "off" if state == "off" else "failed", reason)
        self._set(HotkeyStatus(state, reason))

    def _set(self, status: HotkeyStatus) -> None:
        self.status = status
        try:
            self._on_status(status)
        except Exception:
            log.exception("hotkey status callback failed")


class _Unavailable(Exception):
    """Hotkeys cannot run here; the message says why, for the log and the dock."""

    def __init__(self, reason: Said) -> None:
        super().__init__(reason)
        self.reason = reason


def _call_in_loop(loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: Any) -> None:
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is left to tell
        loop.call_soon_threadsafe(fn, *args)


# --- pynput's X backend -------------------------------------------------------------

# X keysyms for the key names in overlay.keycombo; character keys are their own keysym.
_X_KEYSYMS: dict[str, str] = {
    "ctrl": "Control_L Control_R", "alt": "Alt_L Alt_R Meta_L Meta_R",
    "shift": "Shift_L Shift_R", "cmd": "Super_L Super_R",
    "space": "space", "enter": "Return KP_Enter", "tab": "Tab", "esc": "Escape",
    "backspace": "BackSpace", "delete": "Delete", "insert": "Insert",
    "home": "Home", "end": "End", "page_up": "Prior", "page_down": "Next",
    "up": "Up", "down": "Down", "left": "Left", "right": "Right",
    "pause": "Pause", "print_screen": "Print", "scroll_lock": "Scroll_Lock", "menu": "Menu",
    "media_play_pause": "XF86_AudioPlay", "media_volume_mute": "XF86_AudioMute",
    "media_volume_down": "XF86_AudioLowerVolume", "media_volume_up": "XF86_AudioRaiseVolume",
    "media_previous": "XF86_AudioPrev", "media_next": "XF86_AudioNext",
    **{f"f{n}": f"F{n}" for n in range(1, 21)},
}  # fmt: skip


def x_key_names() -> dict[int, str]:
    """Key name by X keysym, for every named key in `_X_KEYSYMS`."""
    import Xlib.XK

    Xlib.XK.load_keysym_group("xf86")
    return {Xlib.XK.string_to_keysym(sym): name for name, syms in _X_KEYSYMS.items() for sym in syms.split()}


def _open_listener(
    combos: Mapping[str, frozenset[str]],
    on_key: Callable[[str, bool, float], None],
    on_end: Callable[[Any, str], None],
) -> Any:
    """Connects to $DISPLAY and starts a ready listener; blocking, so run off the loop."""
    try:
        import Xlib.display
    except ImportError:
        raise _Unavailable(_NO_PYNPUT) from None
    try:
        probe = Xlib.display.Display()
    except Exception as exc:  # Xlib raises unrelated types for a bad name, a refusal, a dead socket
        raise _Unavailable(Said(N_("cannot open display %(display)s: %(error)s"),
                                display=os.environ.get("DISPLAY"), error=exc)) from None
    # The probe stays connected until the listener holds its own connections: an X server
    # that resets when its last client leaves (Xvfb's default) drops whoever connects then.
    try:
        if not probe.has_extension("RECORD"):
            raise _Unavailable(NO_RECORD)  # without it pynput's listener never becomes ready
        keyboard = _import_keyboard()
        listener = _listener_class(keyboard)(ComboMatcher(combos), x_key_names(), on_key, on_end)
        listener.start()
        listener.wait()
    finally:
        probe.close()
    return listener


def _import_keyboard() -> Any:
    try:
        from pynput import keyboard
    except ModuleNotFoundError:
        raise _Unavailable(_NO_PYNPUT) from None
    except ImportError as exc:
        first = str(exc).splitlines()[0]
        raise _Unavailable(Said(N_("pynput failed to load: %(error)s"), error=first)) from None
    # Other backends (PYNPUT_BACKEND) never call the X event hook below, nor carry X's times.
    if keyboard.Listener.__module__ != "pynput.keyboard._xorg":
        raise _Unavailable(NOT_XORG)
    return keyboard


def _listener_class(keyboard: Any) -> Any:
    import Xlib.error
    import Xlib.X

    class RecordListener(keyboard.Listener):  # type: ignore[misc]  # pynput has no types
        def __init__(
            self,
            matcher: ComboMatcher,
            names: dict[int, str],
            on_key: Callable[[str, bool, float], None],
            on_end: Callable[[Any, str], None],
        ) -> None:
            super().__init__()
            self.ended_reason: str | None = None
            self._matcher = matcher
            self._names = names
            self._on_key = on_key
            self._on_end = on_end
            self._time = XEventTime()

        def _handle_message(self, display: Any, event: Any, injected: bool) -> None:
            # pynput's per-event hook in its X backend. Its own key translation follows
            # Shift (Alt turns into Meta, 1 into !), so keys are named from the keysym
            # with no modifier applied, and releases are paired with presses by keycode.
            if injected:
                return
            if event.type == Xlib.X.KeyPress:
                at = self._time.seconds(event.time)
                keysym = display.keycode_to_keysym(event.detail, 0)
                for combo in self._matcher.press(event.detail, self._key_name(keysym)):
                    self._on_key(combo, True, at)
            elif event.type == Xlib.X.KeyRelease:
                at = self._time.seconds(event.time)
                for combo in self._matcher.release(event.detail):
                    self._on_key(combo, False, at)

        def _key_name(self, keysym: int) -> str:
            if keysym in self._names:
                return self._names[keysym]
            if 0x21 <= keysym <= 0x7E:  # printable ASCII keysyms are the character's code
                return chr(keysym).lower()
            return f"keysym-{keysym:#x}"

        def run(self) -> None:
            # Overridden because X dying makes pynput's thread raise on its way out.
            reason = X_GONE
            try:
                super().run()
            except Exception as exc:
                if not isinstance(exc, Xlib.error.ConnectionClosedError):
                    reason = Said(N_("hotkey listener stopped: %(error)s"), error=exc)
            self.ended_reason = reason
            self._on_end(self, reason)

    return RecordListener


def _halt_soon(listener: Any) -> None:
    # In a daemon thread, so a wedged X connection cannot hold up the loop or shutdown.
    threading.Thread(target=_halt, args=(listener,), name="hotkeys-stop", daemon=True).start()


def _halt(listener: Any) -> None:
    """Ends a listener thread now rather than at the next key event."""
    # Failures below mean X is gone or the thread is already closing these connections.
    with contextlib.suppress(Exception):
        listener.stop()
    # pynput's stop() queues its disable request on the connection that the thread is
    # blocked reading, so it is only sent at the next key event; the same request on the
    # listener's other connection reaches the server at once.
    with contextlib.suppress(Exception):
        listener._display_stop.record_disable_context(listener._context)
        listener._display_stop.flush()
