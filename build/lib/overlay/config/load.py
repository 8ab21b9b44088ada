"""config.yaml: load, validate every key, and name the key path when something is wrong."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..core import commands
from ..core.durations import format_duration, parse_duration
from ..core.focus import ADJUST_MAX, Focus
from ..core.keycombo import DEFAULT_HOTKEYS, parse_combo
from ..core.session import Command
from ..core.settings import (
    DEFAULT_PORT,
    Config,
    Deadline,
    Goal,
    HotkeysConfig,
    ObsConfig,
    ObsScenes,
    ServerConfig,
    Step,
)
from ..i18n import LANGUAGES, pick
from .sounds import read_sounds
from .twitch import read_twitch
from .yamlpaths import Path as KeyPath
from .yamlpaths import YamlSyntaxError, format_path, load_with_lines

MAX_STEPS = 50
_EXAMPLE_AT = "2027-03-01T18:00:00+01:00"
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2}(?:[-_][A-Za-z]{2})?")  # it, it-IT, es_ES
LONGEST = timedelta(hours=999)  # a duration past this is a typo (and past it dates overflow)


class ConfigError(Exception):
    """A bad configuration; str() is the whole message for the user."""


_STEP_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class _Reader:
    """Typed access to the raw YAML with the key path and line in every error."""

    def __init__(self, lines: dict[KeyPath, int]) -> None:
        self.lines = lines

    def fail(self, path: KeyPath, expected: str) -> ConfigError:
        line, above = self.lines.get(path), path
        while line is None and above:  # a missing key: the line of the mapping it belongs in
            above = above[:-1]
            line = self.lines.get(above)
        where = f" (line {line})" if line else ""
        return ConfigError(f"{format_path(path)}{where}: {expected}")

    def mapping(self, value: Any, path: KeyPath, known: set[str]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a mapping, got {_kind(value)}")
        for key in value:
            if key not in known:
                hint = ", ".join(sorted(known))
                raise self.fail((*path, key), f"unknown key; expected one of: {hint}")
        return value

    def string(self, m: dict[str, Any], path: KeyPath, key: str, default: str | None) -> str:
        value = m.get(key, default)
        if value is None and default is None and key not in m:
            raise self.fail((*path, key), "is required")
        if not isinstance(value, str):
            raise self.fail((*path, key), f"expected text, got {_kind(value)}")
        return value

    def opt_string(self, m: dict[str, Any], path: KeyPath, key: str) -> str | None:
        value = m.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail((*path, key), f"expected non-empty text, got {_kind(value)}")
        return value.strip()

    def boolean(self, m: dict[str, Any], path: KeyPath, key: str, default: bool) -> bool:
        value = m.get(key, default)
        if not isinstance(value, bool):
            raise self.fail((*path, key), f"expected true or false, got {_kind(value)}")
        return value

    def port(self, m: dict[str, Any], path: KeyPath, key: str, default: int) -> int:
        value = m.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
            raise self.fail((*path, key), f"expected a port number 0-65535, got {value!r}")
        return value

    def duration(
        self, m: dict[Any, Any], path: KeyPath, key: str | int, most: timedelta = LONGEST
    ) -> timedelta | None:
        value = m.get(key)
        if value is None:
            return None
        parsed = parse_duration(value) if isinstance(value, str) else None
        if parsed is None or parsed <= timedelta(0):
            raise self.fail((*path, key), f"expected a duration such as 25m, 1h30m or 90s, got {value!r}")
        if parsed > most:
            raise self.fail((*path, key), f"{value!r} is longer than {format_duration(most)}, "
                                          f"the longest this key takes")
        return parsed


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {
        bool: "true/false", int: "a number", float: "a number", str: "text",
        list: "a list", dict: "a mapping",
    }.get(type(value), type(value).__name__)


def load_config(path: Path | str) -> Config:
    """Read and validate a config file; raise ConfigError with a user-facing message."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it ({exc})") from None
    try:
        return parse_config(text, base_dir=path.resolve().parent, source=path)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def parse_config(text: str, *, base_dir: Path, source: Path | None = None) -> Config:
    try:
        raw, lines = load_with_lines(text)
    except YamlSyntaxError as exc:
        raise ConfigError(f"not valid YAML: {exc}") from None
    r = _Reader(lines)
    top = r.mapping(
        raw, (), {"steps", "deadline", "goal", "timezone", "language", "server", "storage", "obs",
                  "hotkeys", "focus", "sounds", "twitch"}
    )
    if raw is None or "steps" not in top:
        raise r.fail(("steps",), "is required: list your routine's steps")
    deadline = _deadline(r, top.get("deadline"))
    goal = _goal(r, top.get("goal"))
    if goal is not None and deadline is None:
        raise r.fail(("goal",), "needs a deadline (deadline.at): the pace is counted toward it")
    every_step = _focus(r, top["focus"], ("focus",), Focus()) if "focus" in top else None
    return Config(
        steps=_steps(r, top["steps"], every_step),
        deadline=deadline,
        goal=goal,
        timezone=_timezone(r, top.get("timezone")),
        language=_language(r, top.get("language")),
        server=_server(r, top.get("server")),
        storage_path=_storage(r, top.get("storage"), base_dir),
        obs=_obs(r, top.get("obs")),
        hotkeys=_hotkeys(r, top.get("hotkeys")),
        sounds=read_sounds(r, top.get("sounds"), base_dir),
        twitch=read_twitch(r, top.get("twitch")),
        source=source,
    )


def _steps(r: _Reader, raw: Any, every_step: Focus | None) -> tuple[Step, ...]:
    path: KeyPath = ("steps",)
    if not isinstance(raw, list):
        raise r.fail(path, f"expected a list of steps, got {_kind(raw)}")
    if not raw:
        raise r.fail(path, "the list is empty; a routine needs at least one step")
    if len(raw) > MAX_STEPS:
        raise r.fail(path, f"at most {MAX_STEPS} steps")
    steps: list[Step] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        p: KeyPath = (*path, i)
        m = r.mapping(item, p, {"id", "title", "target", "scene", "reviews_previous", "focus"})
        if not m:
            raise r.fail(p, "expected a step with at least id and title")
        step_id = r.string(m, p, "id", None)
        if not _STEP_ID.match(step_id):
            raise r.fail(
                (*p, "id"), "expected lowercase letters, digits, - or _ (at most 40), "
                f"starting with a letter or digit, got {step_id!r}"
            )
        if step_id in seen:
            raise r.fail((*p, "id"), f"duplicate step id {step_id!r}")
        seen.add(step_id)
        title = r.string(m, p, "title", None).strip()
        if not title:
            raise r.fail((*p, "title"), "must not be empty")
        steps.append(Step(
            id=step_id,
            title=title,
            target=r.duration(m, p, "target"),
            scene=r.opt_string(m, p, "scene"),
            reviews_previous=r.boolean(m, p, "reviews_previous", False),
            focus=_focus(r, m["focus"], (*p, "focus"), every_step or Focus())
            if "focus" in m else every_step,
        ))
    return tuple(steps)


def _focus(r: _Reader, raw: Any, path: KeyPath, base: Focus) -> Focus | None:
    """`false`: none; `true` or empty: `base`; a mapping: `base` with the keys it gives."""
    if raw is False:
        return None
    if raw is True:
        return base
    if raw is not None and not isinstance(raw, dict):
        raise r.fail(path, f"expected a mapping (work, break, ...), true or false, got {_kind(raw)}")
    m = r.mapping(raw, path, {"work", "break", "long_break", "long_every", "auto"})
    every = m.get("long_every", base.long_every)
    if isinstance(every, bool) or not isinstance(every, int) or not 1 <= every <= 100:
        raise r.fail((*path, "long_every"), f"expected a whole number from 1 to 100, got {every!r}")
    return Focus(
        work=r.duration(m, path, "work", ADJUST_MAX) or base.work,
        break_=r.duration(m, path, "break", ADJUST_MAX) or base.break_,
        long_break=r.duration(m, path, "long_break", ADJUST_MAX) or base.long_break,
        long_every=every,
        auto=r.boolean(m, path, "auto", base.auto),
    )


def _deadline(r: _Reader, raw: Any) -> Deadline | None:
    path: KeyPath = ("deadline",)
    if raw is None:
        return None
    m = r.mapping(raw, path, {"at", "label", "remind"})
    at = m.get("at")
    if isinstance(at, str):
        try:
            at = datetime.fromisoformat(at)
        except ValueError as exc:
            raise r.fail((*path, "at"), f"{at!r} is not a date-time ({exc}); expected one like "
                                        f"{_EXAMPLE_AT}") from None
    if not isinstance(at, datetime):
        raise r.fail((*path, "at"), f"expected a date-time with a time zone, like {_EXAMPLE_AT}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise r.fail((*path, "at"), f"needs a time zone, like {_EXAMPLE_AT} or ...Z")
    label = r.string(m, path, "label", "Deadline").strip() or "Deadline"
    return Deadline(at=at, label=label, remind=_remind(r, m.get("remind"), (*path, "remind")))


def _remind(r: _Reader, raw: Any, path: KeyPath) -> tuple[timedelta, ...]:
    """remind: [7d, 1d, 1h]: a sound that long before the deadline (sounds.deadline)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise r.fail(path, f"expected a list of durations like [7d, 1d, 1h], got {_kind(raw)}")
    found = [r.duration(dict(enumerate(raw)), path, i, LONGEST) for i in range(len(raw))]
    return tuple(sorted({d for d in found if d is not None}, reverse=True))


def _goal(r: _Reader, raw: Any) -> Goal | None:
    path: KeyPath = ("goal",)
    if raw is None:
        return None
    m = r.mapping(raw, path, {"units", "unit", "unit_plural", "since"})
    units = m.get("units")
    if isinstance(units, bool) or not isinstance(units, int) or units < 1:
        raise r.fail((*path, "units"), f"expected a whole number of units, 1 or more, got {units!r}")
    unit = r.string(m, path, "unit", "unit").strip() or "unit"
    since = m.get("since")
    if isinstance(since, str):
        try:
            since = datetime.fromisoformat(since)
        except ValueError as exc:
            raise r.fail((*path, "since"), f"{since!r} is not a date ({exc}); expected one like "
                                           "2026-11-01") from None
    if isinstance(since, date) and not isinstance(since, datetime):
        since = datetime.combine(since, time())
    if since is not None and not isinstance(since, datetime):
        raise r.fail((*path, "since"), f"expected a date like 2026-11-01, got {since!r}")
    if since is not None and since.tzinfo is None:
        since = since.astimezone()  # a plain date means midnight here
    return Goal(
        units=units, unit=unit,
        unit_plural=r.string(m, path, "unit_plural", unit + "s").strip() or unit + "s",
        since=since,
    )


def _timezone(r: _Reader, raw: Any) -> tzinfo | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        raise r.fail(("timezone",), f"expected a time zone name like Europe/Rome, got {raw!r}")
    try:
        return ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise r.fail(("timezone",), f"unknown time zone {raw!r}; use a name like Europe/Rome") from None


def _language(r: _Reader, raw: Any) -> str:
    if raw is None:
        return "en"
    code = pick(raw) if isinstance(raw, str) else ""
    tag = raw.strip() if isinstance(raw, str) else ""
    if not _LANGUAGE_TAG.fullmatch(tag) or tag[:2].lower() != code:
        known = ", ".join(LANGUAGES)
        raise r.fail(("language",), f"unknown language {raw!r}; expected one of: {known}")
    return code  # "it-IT" and "it_IT" are "it"


def _server(r: _Reader, raw: Any) -> ServerConfig:
    path: KeyPath = ("server",)
    m = r.mapping(raw, path, {"host", "port", "token", "allowed_hosts"})
    host = r.string(m, path, "host", "127.0.0.1").strip()
    token = r.string(m, path, "token", "").strip()
    allowed = m.get("allowed_hosts", [])
    if not isinstance(allowed, list) or not all(isinstance(h, str) and h for h in allowed):
        raise r.fail((*path, "allowed_hosts"), "expected a list of host names")
    return ServerConfig(
        host=host,
        port=r.port(m, path, "port", DEFAULT_PORT),
        token=token,
        allowed_hosts=tuple(h.strip().lower() for h in allowed),
    )


def _storage(r: _Reader, raw: Any, base_dir: Path) -> Path:
    path: KeyPath = ("storage",)
    m = r.mapping(raw, path, {"path"})
    value = Path(r.string(m, path, "path", "study-overlay.sqlite3"))
    return value if value.is_absolute() else base_dir / value


def _obs(r: _Reader, raw: Any) -> ObsConfig:
    path: KeyPath = ("obs",)
    m = r.mapping(
        raw, path,
        {"enabled", "host", "port", "password", "switch_scenes", "follow", "studio_mode", "scenes"},
    )
    studio_mode = r.string(m, path, "studio_mode", "program")
    if studio_mode not in ("program", "preview"):
        raise r.fail((*path, "studio_mode"), f"expected program or preview, got {studio_mode!r}")
    sp: KeyPath = (*path, "scenes")
    sm = r.mapping(m.get("scenes"), sp, {"idle", "paused", "finished", "break"})
    paused = r.opt_string(sm, sp, "paused")
    return ObsConfig(
        enabled=r.boolean(m, path, "enabled", False),
        host=r.string(m, path, "host", "127.0.0.1").strip(),
        port=r.port(m, path, "port", 4455),
        password=r.string(m, path, "password", "").strip(),
        switch_scenes=r.boolean(m, path, "switch_scenes", True),
        follow=r.boolean(m, path, "follow", True),
        studio_mode=studio_mode,
        scenes=ObsScenes(
            idle=r.opt_string(sm, sp, "idle"),
            paused=paused,
            finished=r.opt_string(sm, sp, "finished"),
            break_=r.opt_string(sm, sp, "break") or paused,
        ),
    )


def _hotkeys(r: _Reader, raw: Any) -> HotkeysConfig:
    path: KeyPath = ("hotkeys",)
    m = r.mapping(raw, path, {"enabled", "cooldown", "confirm_window", "bindings"})
    bindings: dict[str, Command] = {c: commands.simple(n) for c, n in DEFAULT_HOTKEYS.items()}
    if "bindings" in m:
        bp: KeyPath = (*path, "bindings")
        raw_bindings = m["bindings"] or {}
        if not isinstance(raw_bindings, dict):
            raise r.fail(bp, f"expected a mapping of key combination -> command, got {_kind(raw_bindings)}")
        bindings = {}
        for combo, command in raw_bindings.items():
            kp: KeyPath = (*bp, str(combo))
            try:
                canonical = parse_combo(str(combo))
            except ValueError as exc:
                raise r.fail(kp, str(exc)) from None
            if command not in commands.BINDABLE:
                known = ", ".join(commands.BINDABLE)
                raise r.fail(kp, f"unknown command {command!r}; expected one of: {known}")
            if canonical in bindings:
                raise r.fail(kp, f"the same keys as another binding ({canonical})")
            bindings[canonical] = commands.simple(command)
    defaults = HotkeysConfig()
    return HotkeysConfig(
        enabled=r.boolean(m, path, "enabled", True),
        bindings=bindings,
        cooldown=r.duration(m, path, "cooldown") or defaults.cooldown,
        confirm_window=r.duration(m, path, "confirm_window") or defaults.confirm_window,
    )
