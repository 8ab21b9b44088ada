"""The settings the core reads: plain frozen values, filled by overlay.config from config.yaml."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from . import session
from .chat import TwitchConfig
from .focus import Focus
from .sound import Sounds

DEFAULT_PORT = 8754


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    target: timedelta | None = None
    scene: str | None = None
    reviews_previous: bool = False
    focus: Focus | None = None  # focus and break cycles: `focus:` with the step's own overrides


@dataclass(frozen=True)
class Deadline:
    at: datetime
    label: str
    remind: tuple[timedelta, ...] = ()  # a sound cue this long before it, longest first


@dataclass(frozen=True)
class Goal:
    units: int
    unit: str = "unit"
    unit_plural: str = "units"
    since: datetime | None = None  # pacing counts from here; else from the first session


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    token: str = ""
    allowed_hosts: tuple[str, ...] = ()

    @property
    def base_url(self) -> str:
        host = self.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"


@dataclass(frozen=True)
class ObsScenes:
    idle: str | None = None
    paused: str | None = None
    finished: str | None = None
    break_: str | None = None  # `break`; the paused scene when not given


@dataclass(frozen=True)
class ObsConfig:
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 4455
    password: str = ""
    switch_scenes: bool = True
    follow: bool = True
    studio_mode: str = "program"
    scenes: ObsScenes = field(default_factory=ObsScenes)


@dataclass(frozen=True)
class HotkeysConfig:
    enabled: bool = True
    bindings: Mapping[str, session.Command] = field(default_factory=dict)  # combination -> command
    cooldown: timedelta = timedelta(milliseconds=400)
    confirm_window: timedelta = timedelta(seconds=2)


@dataclass(frozen=True)
class Config:
    steps: tuple[Step, ...]
    deadline: Deadline | None = None
    goal: Goal | None = None
    timezone: tzinfo | None = None  # None: the machine's local time
    language: str = "en"  # overlay.i18n.LANGUAGES; a page's ?lang= overrides it
    server: ServerConfig = field(default_factory=ServerConfig)
    storage_path: Path = Path("study-overlay.sqlite3")
    obs: ObsConfig = field(default_factory=ObsConfig)
    hotkeys: HotkeysConfig = field(default_factory=HotkeysConfig)
    sounds: Sounds = field(default_factory=Sounds)
    twitch: TwitchConfig = field(default_factory=TwitchConfig)
    source: Path | None = None

    @property
    def focus_plans(self) -> tuple[Focus | None, ...]:
        """Each step's focus settings, by index: what the core's `apply` takes."""
        return tuple(st.focus for st in self.steps)


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
