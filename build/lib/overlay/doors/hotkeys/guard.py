"""What a hotkey press does, decided on event times the caller passes: nothing here reads a clock."""

from __future__ import annotations

from typing import Literal

Verdict = Literal["run", "confirm", "repeat", "cooldown"]

_X_TIME_SPAN = 1 << 32  # X timestamps are milliseconds in 32 bits


class XEventTime:
    """Seconds on one unbroken scale from X's event timestamps, for one listener's events.

    X's millisecond counter wraps every 49.7 days of server uptime, so each stamp is read
    as the shortest step, forwards or back, from the one before.
    """

    def __init__(self) -> None:
        self._last: int | None = None
        self._ms = 0

    def seconds(self, stamp: int) -> float:
        if self._last is None:
            self._ms = stamp
        else:
            step = (stamp - self._last) % _X_TIME_SPAN
            self._ms += step - _X_TIME_SPAN if step >= _X_TIME_SPAN // 2 else step
        self._last = stamp
        return self._ms / 1000


class HotkeyGuard:
    """Decides what a hotkey press does, from the times of key events on one clock.

    A press within `repeat_gap` of the same command's release is X auto-repeat (which
    some servers send as release/press pairs); a press within `cooldown` of the last one
    that counted is a bounce. Both are ignored. A confirm command only runs on a second
    counted press within `confirm_window`; any other counted press cancels the wait.
    """

    def __init__(
        self,
        *,
        cooldown: float,
        confirm_window: float,
        confirm_commands: frozenset[str],
        repeat_gap: float = 0.05,
    ) -> None:
        self._cooldown = cooldown
        self._confirm_window = confirm_window
        self._confirm_commands = confirm_commands
        self._repeat_gap = repeat_gap
        self._released_at: dict[str, float] = {}
        self._counted_at: dict[str, float] = {}
        self.pending: str | None = None
        self.pending_until = 0.0

    def press(self, command: str, at: float) -> Verdict:
        released = self._released_at.get(command)
        if released is not None and at - released < self._repeat_gap:
            return "repeat"
        counted = self._counted_at.get(command)
        if counted is not None and at - counted < self._cooldown:
            return "cooldown"
        self._counted_at[command] = at
        if command in self._confirm_commands and not (self.pending == command and at < self.pending_until):
            self.pending, self.pending_until = command, at + self._confirm_window
            return "confirm"
        self.pending = None
        return "run"

    def release(self, command: str, at: float) -> None:
        self._released_at[command] = at

    def cancel_confirm(self) -> None:
        """Stops waiting for a second press: the prompt timed out, or the keys went away."""
        self.pending = None
