"""The one place every command goes through, whatever door it came in by.

Each command runs under one lock: the pure core; then the SQLite commit on the storage thread
while pages are shown the change; then, once it is saved, the other stages in the order written
in `Stages.in_order`, and the answer. A change pages saw but the file did not take is taken back
from every page at once (Live), and refused: nothing unsaved is ever acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ..core import focus, routine, undo
from ..core import session as core
from ..core.settings import Config
from ..storage.store import FileChanged, Storage, StorageError

log = logging.getLogger("study_overlay")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Change:
    rev: int
    at: datetime
    door: str
    command: core.Command | routine.Reroute
    state: core.State
    events: tuple[core.Event, ...]
    history: undo.History = undo.History()  # what undo and redo can do after it


Stage = Callable[[Change], None]


class NotSaved(Exception):
    """The commit failed (disk full, file gone); nothing changed. str() says why."""

    def __init__(self, message: str, *, reloaded: bool = False, went_back: bool = False,
                 shown: bool = False) -> None:
        super().__init__(message)
        self.reloaded = reloaded  # the file had changed underneath: the state is what it holds
        self.went_back = went_back  # and its rev is lower than the one pages were shown
        self.shown = shown  # pages were shown the change while it was being saved


@dataclass
class Stages:
    """What follows a commit, in this order: pages first (viewers), then OBS, chat, the clock."""

    pages: Stage | None = None  # the new snapshot to every page and client
    obs: Stage | None = None  # the scene the state wants, and the CustomEvent
    chat: Stage | None = None  # what the Twitch link says of it (the recap after finish)
    clock: Stage | None = None  # the next focus/break boundary to wake at

    def in_order(self) -> tuple[tuple[str, Stage], ...]:
        named = (("pages", self.pages), ("obs", self.obs), ("chat", self.chat), ("clock", self.clock))
        return tuple((name, stage) for name, stage in named if stage is not None)


class Dispatcher:
    """Runs commands one at a time: core, then commit, then the stages."""

    def __init__(
        self, config: Config, storage: Storage, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.config = config
        self.storage = storage
        self.clock = clock
        self.state, self.rev = storage.load()
        self.history = storage.load_history()  # what undo and redo can take back or put back
        self.stages = Stages()
        self.on_reload: Callable[[], None] | None = None  # after the state was read back from the file
        self._failing = False  # the last commit failed: show the next change only once it is saved
        self._lock = asyncio.Lock()

    async def dispatch(self, command: core.Command, door: str) -> Change:
        """Apply a typed command. Raises core.Refused or NotSaved (nothing changed), or returns
        the committed change."""
        async with self._lock:
            now = self.clock()
            rev = self.rev + 1
            try:
                state, events, history = self._run(command, now, rev)
            except core.Refused as refusal:
                log.info("%s via %s refused: %s", command.name, door, refusal.name)
                raise
            change = Change(rev, now, door, command, state, events, history)
            # Pages are shown the change, then its commit runs on the storage thread; the caller's
            # answer waits for the commit. If it fails, pages start over (Live). The frames go out
            # first: written while the commit thread runs, the two would share one GIL (measured:
            # the first page had it 0.1-0.3 ms later, and the answer came no sooner).
            # After a failed commit, changes are shown only once saved again, so a disk that stays
            # full (the focus clock retries every second) does not make pages start over each time.
            shown = not self._failing and self._show(change)
            try:
                await self.storage.commit_soon(rev, now, command, door, state, events, history)
            except FileChanged as exc:
                self._failing = True
                raise await self._take_up(command, exc, shown) from None
            except (sqlite3.Error, OSError, StorageError) as exc:
                self._failing = True
                log.error("could not save %s: %s", command.name, exc)
                raise NotSaved(f"could not save the change ({exc}); nothing changed", shown=shown) from None
            except Exception as exc:  # a bug must not wedge the service: refuse, change nothing
                self._failing = True
                log.exception("could not save %s", command.name)
                raise NotSaved(f"could not save the change ({exc!r}); nothing changed", shown=shown) from None
            self.state, self.rev, self.history = state, rev, history
            log.info("rev %d %s via %s -> %s", rev, command.name, door, core.phase(state))
            self._after(change, pages=not shown)
            self._failing = False
            return change

    def _show(self, change: Change) -> bool:
        """Pages are told the change; False when there are none to tell."""
        if self.stages.pages is None:
            return False
        try:
            self.stages.pages(change)
        except Exception:
            log.exception("stage pages failed on rev %d", change.rev)
        return True

    async def reconfigure(self, config: Config) -> Change | None:
        """Take up an edited config.yaml; the stages (pages, OBS's scene, the focus clock) follow.
        If its routine moved or removed steps, the sessions and the undo history follow their
        steps' ids in one committed change (returned); else nothing is saved and the stages see
        the same rev. Raises NotSaved, keeping the old config, when the change cannot be saved."""
        async with self._lock:
            m = routine.moves([st.id for st in self.config.steps], [st.id for st in config.steps])
            if m.identity:  # titles, targets, scenes, cycles: nothing to save, every stage told
                self.config, self.storage.steps = config, config.steps
                self._after(Change(self.rev, self.clock(), "setup", routine.Reroute(m), self.state, (),
                                   self.history))
                return None
            now, rev = self.clock(), self.rev + 1
            command = routine.Reroute(m)
            state, history = routine.reroute(self.state, m), routine.reroute_history(self.history, m)
            old_steps, self.storage.steps = self.storage.steps, config.steps
            try:
                await self.storage.commit(rev, now, command, "setup", state, (), history)
            except Exception as exc:  # the file changed, the disk is full: the old routine stays
                self.storage.steps = old_steps
                log.error("could not save the new routine: %s", exc)
                raise NotSaved(f"could not save the change ({exc}); nothing changed") from None
            self.config, self.state, self.rev, self.history = config, state, rev, history
            log.info("rev %d routine changed to %s", rev, ", ".join(st.id for st in config.steps))
            change = Change(rev, now, "setup", command, state, (), history)
            self._after(change)
            return change

    def _after(self, change: Change, *, pages: bool = True) -> None:
        """The stages, inside the lock, so every stage sees changes in rev order."""
        for name, stage in self.stages.in_order():
            if name == "pages" and not pages:
                continue
            try:
                stage(change)
            except Exception:
                log.exception("stage %s failed on rev %d", name, change.rev)

    def _run(
        self, command: core.Command, now: datetime, rev: int
    ) -> tuple[core.State, tuple[core.Event, ...], undo.History]:
        """The pure part: the core for a command, the history for undo and redo."""
        if isinstance(command, undo.Undo):
            state, history, moved = self.history.undo()
            return state, (moved,), history
        if isinstance(command, undo.Redo):
            state, history, again = self.history.redo()
            return state, (again,), history
        state, events = core.apply(self.state, command, now, len(self.config.steps), self.config.focus_plans)
        if isinstance(command, focus.CatchUp):  # the service's own: not a step of the history
            return state, events, self.history
        return state, events, self.history.record(undo.Entry(command.name, rev, now, self.state, state))

    async def _take_up(self, command: core.Command, exc: FileChanged, shown: bool) -> NotSaved:
        """The file is the truth: read it back rather than refuse every command from now on."""
        was = self.rev
        try:
            self.state, self.rev = await self.storage.reload()
            self.history = self.storage.load_history()
        except (StorageError, sqlite3.Error) as again:
            log.error("could not save %s: %s; %s", command.name, exc, again)
            return NotSaved(f"could not save the change ({exc}; {again}); nothing changed", shown=shown)
        log.warning("could not save %s: %s; took up what it holds now (rev %d)",
                    command.name, exc, self.rev)
        if self.on_reload is not None:
            try:
                self.on_reload()
            except Exception:
                log.exception("after taking up rev %d", self.rev)
        return NotSaved(f"could not save the change: {exc}. The service now shows what the file "
                        f"holds (rev {self.rev}); send the command again",
                        reloaded=True, went_back=self.rev < was, shown=shown)
