"""Undo and redo of any command. Pure: the history is a value the dispatcher keeps and saves.

The rule for clocks is "as if the command had never been given": undo puts back the state from
before the command, and wall-clock time has gone on since. Undoing a `next` made 10 minutes
ago puts the session back on the earlier step, still running, so those 10 minutes count for
it; undoing a `pause` counts the paused time as worked; undoing `finish` reopens the session
with the time since counted; undoing `resume` leaves it paused all along. Redo puts back the
state the command made, as it made it.

The service's own boundary crossings (catch-up) are not steps of the history: undoing the
command before one also undoes what followed it, and the service crosses again whatever is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from .refusal import N_, Refused

if TYPE_CHECKING:
    from .session import State

LIMIT = 50  # commands that can be undone


@dataclass(frozen=True)
class Undo:
    name = "undo"


@dataclass(frozen=True)
class Redo:
    name = "redo"


class NothingToUndo(Refused):
    message = N_("nothing to undo")


class NothingToRedo(Refused):
    message = N_("nothing to redo")


@dataclass(frozen=True)
class Entry:
    command: str  # its name, for the dock: "Undo: next (2 min ago)"
    rev: int  # the command log's row: marked undone, and not undone again on redo
    at: datetime
    before: State
    after: State


@dataclass(frozen=True)
class Undone:
    entry: Entry


@dataclass(frozen=True)
class Redone:
    entry: Entry


UndoEvent = Undone | Redone


@dataclass(frozen=True)
class History:
    done: tuple[Entry, ...] = ()  # oldest first: undo takes back the last
    undone: tuple[Entry, ...] = ()  # redo puts back the last

    def record(self, entry: Entry) -> History:
        """A new command: it can be undone; what was undone before it can no longer be redone."""
        return History(done=(*self.done, entry)[-LIMIT:], undone=())

    def undo(self) -> tuple[State, History, Undone]:
        if not self.done:
            raise NothingToUndo()
        entry = self.done[-1]
        return entry.before, History(self.done[:-1], (*self.undone, entry)), Undone(entry)

    def redo(self) -> tuple[State, History, Redone]:
        if not self.undone:
            raise NothingToRedo()
        entry = self.undone[-1]
        return entry.after, History((*self.done, entry), self.undone[:-1]), Redone(entry)
