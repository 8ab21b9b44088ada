"""The file format: create a new database, or bring an older one up to date in place.

Schema 1 (release 0.1.0) kept every failure three times: in the state, in its session's JSON
and in the failures table. Schema 2 keeps a failure once (the table) and a session once (its
row); the state names sessions by number. Schema 3 adds undo: the commands that can be undone
or redone (`undo`, each with the state before and after it) and an `undone` mark in the log.
Schema 4 keeps the failures an undo entry's states hold as chains of `failure_nodes` (chains.py),
so an entry no longer grows with the session; entries written by schema 3 are read as they are.
A migration runs in one transaction, after a copy of the file is kept beside it.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

APPLICATION_ID = 0x53544F56  # "STOV": marks the file as ours
VERSION = 4

TABLES = """
CREATE TABLE state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rev INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE commands (
    rev INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    command TEXT NOT NULL,
    door TEXT NOT NULL,
    undone INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE sessions (
    number INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    outcome TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE failures (
    session INTEGER NOT NULL REFERENCES sessions(number),
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    step_index INTEGER NOT NULL,
    step_id TEXT NOT NULL,
    note TEXT NOT NULL,
    PRIMARY KEY (session, seq)
);
CREATE INDEX failures_at ON failures(at);
CREATE TABLE undo (
    rev INTEGER PRIMARY KEY,
    command TEXT NOT NULL,
    at TEXT NOT NULL,
    undone INTEGER NOT NULL,
    before TEXT NOT NULL,
    after TEXT NOT NULL
);
CREATE TABLE failure_nodes (
    id INTEGER PRIMARY KEY,
    parent INTEGER REFERENCES failure_nodes(id),
    at TEXT NOT NULL,
    step INTEGER NOT NULL,
    note TEXT NOT NULL
);
"""


def create(db: sqlite3.Connection) -> None:
    db.executescript(
        f"BEGIN;\n{TABLES}\nPRAGMA application_id = {APPLICATION_ID};\n"
        f"PRAGMA user_version = {VERSION};\nCOMMIT;"
    )


def migrate(db: sqlite3.Connection, path: Path, version: int, step_ids: list[str]) -> None:
    """Bring a file of an older schema to VERSION; a copy of it is kept as <file>.schemaN.bak."""
    if version >= VERSION:
        return
    backup = path.with_name(f"{path.name}.schema{version}.bak")
    if not backup.exists():
        with sqlite3.connect(backup) as copy:
            db.backup(copy)
        copy.close()
    db.execute("BEGIN IMMEDIATE")
    try:
        if version < 2:
            _v1_to_v2(db, step_ids)
        if version < 3:
            _v2_to_v3(db)
        if version < 4:
            _v3_to_v4(db)
        db.execute(f"PRAGMA user_version = {VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _v3_to_v4(db: sqlite3.Connection) -> None:
    """Undo entries written until now keep their failures in full; new ones name a chain."""
    db.execute("CREATE TABLE failure_nodes (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES "
               "failure_nodes(id), at TEXT NOT NULL, step INTEGER NOT NULL, note TEXT NOT NULL)")


def _v2_to_v3(db: sqlite3.Connection) -> None:
    """Nothing to undo yet; no command was undone."""
    db.execute("ALTER TABLE commands ADD COLUMN undone INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE TABLE undo (rev INTEGER PRIMARY KEY, command TEXT NOT NULL, at TEXT NOT NULL, "
               "undone INTEGER NOT NULL, before TEXT NOT NULL, after TEXT NOT NULL)")


def _v1_to_v2(db: sqlite3.Connection, step_ids: list[str]) -> None:
    def step_id(index: int) -> str:
        return step_ids[index] if index < len(step_ids) else str(index)

    def keep(session: dict[str, Any]) -> None:
        """The session's failures into the table (where schema 1 already had them), once."""
        for seq, (at, step, note) in enumerate(session.get("failures", ()), start=1):
            db.execute(
                "INSERT OR IGNORE INTO failures (session, seq, at, step_index, step_id, note) "
                "VALUES (?, ?, ?, ?, ?, ?)", (session["number"], seq, at, step, step_id(step), note),
            )

    for number, data in db.execute("SELECT number, data FROM sessions").fetchall():
        session = json.loads(data)
        keep(session)
        session.pop("failures", None)
        db.execute("UPDATE sessions SET data = ? WHERE number = ?", (json.dumps(session), number))
    row = db.execute("SELECT data FROM state WHERE id = 1").fetchone()
    if row is None:
        return
    state = json.loads(row[0])
    for key in ("session", "discarded", "previous"):
        session = state.get(key)
        if isinstance(session, dict):
            keep(session)
            if db.execute("SELECT 1 FROM sessions WHERE number = ?", (session["number"],)).fetchone() is None:
                session.pop("failures", None)
                db.execute(
                    "INSERT INTO sessions (number, started_at, ended_at, outcome, data) "
                    "VALUES (?, ?, ?, 'reset', ?)",
                    (session["number"], session["started_at"], session.get("finished_at"),
                     json.dumps(session)),
                )
            state[key] = session["number"]
    db.execute("UPDATE state SET data = ? WHERE id = 1", (json.dumps(state),))
