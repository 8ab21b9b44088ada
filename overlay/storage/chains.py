"""A session's failures as undo keeps them: a chain of nodes, each pointing at the one before.

An undo entry holds whole states, and a state holds every failure of its session. Written out
in full, each command's entry grew with the session (2,000 notes: 560 KB a command, fsync'd).
Here each failure is a node written once (`failure_nodes`: parent, at, step, note), and a state
names its session's failures by the last node: a `fail` adds one node, whatever came before.
Lists that share a beginning share its nodes, so undo, redo and `undo-fail` add none.
"""

from __future__ import annotations

import operator
import sqlite3
from collections.abc import Callable
from datetime import datetime

from ..core import session as core

Failures = tuple[core.Failure, ...]


class Chains:
    """Writes failure lists as chains and reads them back; one per database connection."""

    def __init__(self) -> None:
        # Per session number: the last list written or read and its nodes, position by position.
        # A new list is most often that one plus a failure: only the difference is written.
        self._last: dict[int, tuple[Failures, list[int]]] = {}
        self._read: dict[int, tuple[Failures, list[int]]] = {}  # head node -> its list, as read back

    def forget(self) -> None:
        """After a transaction rolled back: nodes written in it are gone."""
        self._last.clear()
        self._read.clear()

    def head(self, db: sqlite3.Connection, number: int, failures: Failures) -> int | None:
        """The node that names `failures` (None for none), writing the nodes it lacks."""
        if not failures:
            return None
        known, nodes = self._last.get(number, ((), []))
        if known is failures:
            return nodes[-1]
        kept = _common(known, failures, operator.is_)  # the core shares the failures it keeps
        if kept == 0 and known:  # read back from the file (after a restart): equal, not the same
            kept = _common(known, failures, operator.eq)
        nodes = nodes[:kept]
        parent = nodes[-1] if nodes else None
        for f in failures[kept:]:
            cursor = db.execute("INSERT INTO failure_nodes (parent, at, step, note) VALUES (?, ?, ?, ?)",
                                (parent, f.at.isoformat(), f.step, f.note))
            parent = cursor.lastrowid
            assert parent is not None
            nodes.append(parent)
        self._last[number] = (failures, nodes)
        return nodes[-1]

    def failures(self, db: sqlite3.Connection, number: int, head: int | None) -> Failures:
        """The list a node names, read back; a list one node longer than one read is one query."""
        if head is None:
            return ()
        path: list[tuple[int, core.Failure]] = []
        node: int | None = head
        while node is not None and node not in self._read:
            row = db.execute("SELECT parent, at, step, note FROM failure_nodes WHERE id = ?",
                             (node,)).fetchone()
            if row is None:
                raise sqlite3.DatabaseError(f"failure node {node} is missing")
            path.append((node, core.Failure(datetime.fromisoformat(row[1]), row[2], row[3])))
            node = row[0]
        found, nodes = self._read[node] if node is not None else ((), [])
        found = (*found, *(f for _, f in reversed(path)))
        nodes = [*nodes, *(n for n, _ in reversed(path))]
        self._read[head] = self._last[number] = (found, nodes)
        return found


def _common(a: Failures, b: Failures, same: Callable[[object, object], bool]) -> int:
    """How many failures the two lists begin with alike."""
    alike = list(map(same, a, b))
    return alike.index(False) if False in alike else len(alike)
