"""config.yaml edited from the setup page: its comments and layout kept, checked as at start.

ruamel.yaml reads the file as a tree that remembers comments, quotes and order; a form's
values are set into it and the text written back is checked by `parse_config`, the rules
`serve` applies at start, before it replaces the file (atomically: a crash leaves the old one).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.tokens import CommentToken

from ..core.durations import format_duration
from ..core.settings import Config
from .load import ConfigError, parse_config


class Stale(Exception):
    """The file changed on disk since the page read it: saving would overwrite that change."""


@dataclass(frozen=True)
class ObsForm:
    enabled: bool
    host: str
    port: int
    password: str | None  # None: keep the saved one (the page is never sent it)


@dataclass(frozen=True)
class StepForm:
    id: str | None  # None: a new step, its id made from its title
    title: str
    target: str  # "" for none
    scene: str  # "" for none
    focus: bool


@dataclass(frozen=True)
class RoutineForm:
    steps: tuple[StepForm, ...]
    deadline_at: str  # "" for no deadline
    deadline_label: str
    goal_units: int | None
    goal_unit: str


def version(text: str) -> str:
    """What the page sends back with a save, so a file edited meanwhile is not overwritten."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _yaml() -> YAML:
    y = YAML()  # round-trip
    y.preserve_quotes = True
    y.width = 4096  # never fold a long title
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _load(text: str) -> CommentedMap:
    try:
        doc = _yaml().load(text)
    except YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}") from None
    if not isinstance(doc, CommentedMap):
        raise ConfigError("expected a mapping of settings at the top of the file")
    return doc


def _dump(doc: CommentedMap) -> str:
    out = io.StringIO()
    _yaml().dump(doc, out)
    return out.getvalue()


# --- the comment block after a node ----------------------------------------------------
# ruamel keeps the comment lines that follow a node on its last scalar ("# The hard deadline"
# after the last step). Removing or moving that node would take them along: they are detached
# first and put back on whatever ends up last.


def _last_slot(node: Any) -> tuple[Any, Any] | None:
    """The collection and key (or index) holding the last scalar under node."""
    while isinstance(node, CommentedMap | CommentedSeq) and len(node):
        key = list(node.keys())[-1] if isinstance(node, CommentedMap) else len(node) - 1
        child = node[key]
        if isinstance(child, CommentedMap | CommentedSeq) and len(child):
            node = child
            continue
        return node, key
    return None


def _detach_tail(node: Any) -> str:
    slot = _last_slot(node)
    if slot is None:
        return ""
    owner, key = slot
    entry = owner.ca.items.get(key)
    token = entry[2] if entry and len(entry) > 2 else None
    if not isinstance(token, CommentToken):
        return ""
    line, _, rest = token.value.partition("\n")
    if not rest.strip():
        return ""
    if line.strip():
        token.value = line + "\n"
    else:
        entry[2] = None
    return rest


def _attach_tail(node: Any, tail: str) -> None:
    slot = _last_slot(node)
    if not tail or slot is None:
        return
    owner, key = slot
    entry = owner.ca.items.setdefault(key, [None, None, None, None])
    token = entry[2]
    if isinstance(token, CommentToken):
        token.value = token.value.rstrip("\n") + "\n" + tail
    else:
        entry[2] = CommentToken("\n" + tail, CommentMark(0), None)


# --- the edits ----------------------------------------------------------------------------


def _section(doc: CommentedMap, key: str) -> CommentedMap:
    if not isinstance(doc.get(key), CommentedMap):
        doc[key] = CommentedMap()
    section: CommentedMap = doc[key]
    return section


def edit_obs(text: str, form: ObsForm) -> str:
    doc = _load(text)
    obs = _section(doc, "obs")
    obs["enabled"], obs["host"], obs["port"] = form.enabled, form.host.strip(), form.port
    if form.password is not None:
        obs["password"] = form.password
    return _dump(doc)


def _set(node: CommentedMap, key: str, value: Any) -> None:
    """Set a key, or drop it for an empty value, keeping the comment block after it."""
    if value not in ("", None):
        node[key] = value
    elif key in node:
        tail = _detach_tail(node)
        del node[key]
        _attach_tail(node, tail)


def new_id(title: str, taken: set[str]) -> str:
    """A step id from its title: "Watch the lecture" -> "watch-the-lecture"."""
    base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:36].strip("-") or "step"
    found, n = base, 2
    while found in taken:
        found, n = f"{base}-{n}", n + 1
    taken.add(found)
    return found


def edit_routine(text: str, form: RoutineForm) -> str:
    """The routine, deadline and goal set from the form; the rest of the file as it was."""
    doc = _load(text)
    old = doc.get("steps")
    tail = _detach_tail(old) if isinstance(old, CommentedSeq) else ""
    by_id = {item.get("id"): item for item in old if isinstance(item, CommentedMap)} \
        if isinstance(old, CommentedSeq) else {}
    every_step = "focus" in doc  # a top-level focus: applies to every step unless it says false
    taken = {s.id for s in form.steps if s.id}
    items = CommentedSeq()
    for step in form.steps:
        item = by_id.get(step.id) if step.id else None
        if item is None:
            item = CommentedMap(id=step.id or new_id(step.title, taken))
        item["title"] = step.title.strip()
        _set(item, "target", step.target.strip())
        _set(item, "scene", step.scene.strip())
        had = item.get("focus")
        if step.focus and not (isinstance(had, CommentedMap) or had is True):  # a custom one stays
            _set(item, "focus", None if every_step else True)
        elif not step.focus:
            _set(item, "focus", False if every_step else None)
        items.append(item)
    if isinstance(old, CommentedSeq):
        old.clear()
        old.extend(items)
        items = old
    else:
        doc["steps"] = items
    _attach_tail(items, tail)
    _edit_deadline(doc, form)
    return _dump(doc)


def _edit_deadline(doc: CommentedMap, form: RoutineForm) -> None:
    if form.deadline_at.strip():
        deadline = _section(doc, "deadline")
        if not _same_moment(deadline.get("at"), form.deadline_at.strip()):  # else it keeps its form
            deadline["at"] = form.deadline_at.strip()
        _set(deadline, "label", form.deadline_label.strip())
    else:
        _drop(doc, "deadline")
    if form.goal_units:
        goal = _section(doc, "goal")
        goal["units"] = form.goal_units
        _set(goal, "unit", form.goal_unit.strip())
    else:
        _drop(doc, "goal")


def _same_moment(had: Any, text: str) -> bool:
    try:
        wanted = datetime.fromisoformat(text)
    except ValueError:
        return False
    if isinstance(had, str):
        try:
            had = datetime.fromisoformat(had)
        except ValueError:
            return False
    return isinstance(had, datetime) and had.tzinfo is not None and wanted.tzinfo is not None \
        and had == wanted and had.utcoffset() == wanted.utcoffset()


def _drop(doc: CommentedMap, key: str) -> None:
    if key not in doc:
        return
    keys = list(doc.keys())
    tail = _detach_tail(doc[key])
    del doc[key]
    before = keys[keys.index(key) - 1] if keys.index(key) > 0 else None
    if before is not None:
        _attach_tail(doc[before], tail)


# --- saving -------------------------------------------------------------------------------


def check(text: str, path: Path) -> Config:
    """The rules `serve` applies at start; raises ConfigError naming the key."""
    return parse_config(text, base_dir=path.resolve().parent, source=path)


def save(path: Path, seen: str, change: Callable[[str], str]) -> tuple[Config, str]:
    """Read the file once, and if it still holds what the page saw, replace it with `change` of it.
    Returns the config and the text written; raises Stale, ConfigError or OSError."""
    current = path.read_text(encoding="utf-8")
    if version(current) != seen:
        raise Stale(f"{path.name} changed on disk since this page read it; reload the page "
                    "to see the change, then make yours again")
    text = change(current)
    config = check(text, path)
    _replace(path, text)
    return config, text


def _replace(path: Path, text: str) -> None:
    """Write beside the file, flush to disk, then rename over it: never half a config."""
    mode = path.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def steps_of(config: Config) -> list[dict[str, Any]]:
    """The routine as the page's form shows it."""
    return [{"id": st.id, "title": st.title, "target": format_duration(st.target) if st.target else "",
             "scene": st.scene or "", "focus": st.focus is not None} for st in config.steps]

