"""The harness and the generators behind test_fuzz.py: a fresh service for every example,
what comes in, and who sends it."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import ServerDisconnectedError, web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import strategies as st

from overlay.app import build_app
from overlay.config import Config, parse_config
from overlay.core import commands, sound
from overlay.core.session import NOTE_MAX
from overlay.runtime.live import LIVE, Live
from overlay.storage.store import Storage

from .conftest import ROUTINE, FakeClock

Client = TestClient[web.Request, web.Application]

TOKEN = "s3cret-token"
GOAL = "goal:\n  units: 12\n  unit: chapter\n"
STEP_IDS = ("review", "lecture", "project")
# fsync costs ~25 ms an example on a disk; on tmpfs SQLite still writes a real file, minus the wait.
FAST_DIR = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


# --- the service, fresh for every example --------------------------------------------------


@dataclass
class Service:
    client: Client
    live: Live

    @property
    def port(self) -> int:
        assert self.client.port is not None
        return self.client.port

    async def state(self) -> dict[str, Any]:
        try:
            resp = await self.client.get("/api/state")
        except ServerDisconnectedError:
            # The client reuses a kept-alive connection unless the last answer said otherwise.
            raise AssertionError("the server dropped the connection after its last answer, "
                                 "which did not say Connection: close") from None
        assert resp.status == 200
        snap: dict[str, Any] = await resp.json()
        return snap

    def stored_rev(self) -> int:
        path = self.live.config.storage_path
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT rev FROM state WHERE id = 1").fetchone()
        return 0 if row is None else int(row[0])

    async def settle(self, situation: str) -> dict[str, Any]:
        """Bring the session to `situation`; the state it is in then."""
        for body in SITUATIONS[situation]:
            await self.live.dispatch(commands.parse(body, self.live.config.steps), "cli")
        return await self.state()


ACTIVE: dict[str, list[dict[str, Any]]] = {  # a session that takes commands, notes included
    "running": [{"command": "start"}],
    "paused": [{"command": "start"}, {"command": "pause"}],
    "on the last step": [{"command": "start"}, {"command": "goto", "step": 3}],
    "with a failure and a unit": [{"command": "start"}, {"command": "fail", "note": "sign"},
                                  {"command": "unit-done"}],
}
SITUATIONS = {
    **ACTIVE,
    "idle": [],
    "finished": [{"command": "start"}, {"command": "finish"}],
    "reset": [{"command": "start"}, {"command": "reset"}],
}
situations = st.sampled_from(list(SITUATIONS))
active_situations = st.sampled_from(list(ACTIVE))


@functools.cache
def routine(token: str) -> Config:
    server = f"server:\n  token: {token}\n" if token else ""
    return parse_config(ROUTINE + GOAL + server, base_dir=Path(tempfile.gettempdir()))


@contextlib.asynccontextmanager
async def service(token: str = "") -> AsyncIterator[Service]:
    with tempfile.TemporaryDirectory(dir=FAST_DIR) as tmp:
        config = dataclasses.replace(routine(token), storage_path=Path(tmp) / "study.sqlite3")
        app = build_app(config, Storage(config.storage_path, config.steps), clock=FakeClock())
        async with TestClient(TestServer(app)) as client:
            yield Service(client, app[LIVE])


async def check(svc: Service, before: dict[str, Any], status: int, what: object) -> dict[str, Any]:
    """What every answer must keep; the state after it."""
    assert status < 500, f"answered {status} to {what!r}"
    after = await svc.state()
    if status == 200:
        assert after["rev"] == before["rev"] + 1, f"accepted {what!r}, rev {before['rev']}->{after['rev']}"
    else:
        assert after == before, f"refused {what!r} with {status}, yet the state changed"
    assert svc.stored_rev() == after["rev"], "the file and the served state disagree"
    return after


# --- what comes in -----------------------------------------------------------------------

# What a JSON decoder can hand us: any code point, lone surrogates included ("\ud800").
surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
any_text = st.text(st.characters() | surrogates, max_size=12)
ascii_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30)
scalars = st.none() | st.booleans() | st.integers() | st.floats() | any_text
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)

names = st.one_of(
    st.sampled_from(commands.NAMES),
    st.sampled_from([s.name for s in commands.COMMANDS.values() if s.arg]),  # where the input is
    st.sampled_from(commands.NAMES).flatmap(lambda n: st.sampled_from([
        n.upper(), f" {n}", f"{n} ", n.replace("-", "_"), n[:-1], n + "s", n + "\x00",
    ])),
    any_text,
    scalars,
)
notes = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.builds(lambda a, s, b: a + s + b, st.text(max_size=4), surrogates, st.text(max_size=4)),
    st.builds(lambda n, pad: " " * pad + "x" * n + "\n" * pad, st.integers(NOTE_MAX - 3, NOTE_MAX + 3),
              st.integers(0, 3)),
    json_values,
)
step_refs = st.one_of(
    st.sampled_from(STEP_IDS),
    st.integers(-1, 5),
    st.sampled_from(["1", "3", "0", "4", "01", "0003", "1000", "\u00b2", "\u0661", " 1", "REVIEW", ""]),
    json_values,
)


@st.composite
def command_bodies(draw: st.DrawFn) -> dict[Any, Any]:
    """Commands as the registry knows them, and near misses: a name off, an argument wrong."""
    body: dict[Any, Any] = {}
    if draw(st.integers(0, 9)):  # mostly with a "command"
        body["command"] = draw(names)
    spec = commands.COMMANDS.get(body["command"]) if isinstance(body.get("command"), str) else None
    if spec is not None and spec.arg == commands.NOTE_ARG and draw(st.booleans()):
        body["note"] = draw(notes)
    if spec is not None and spec.arg == commands.STEP_ARG and draw(st.integers(0, 5)):
        body["step"] = draw(step_refs)
    if spec is not None and spec.arg == commands.CUE_ARG and draw(st.integers(0, 5)):
        body["cue"] = draw(st.sampled_from([*sound.CUES, "BREAK", "gong", ""]) | json_values)
    if spec is not None and spec.arg == commands.DURATION_ARG and draw(st.booleans()):
        body["duration"] = draw(st.sampled_from(["5m", "90s", "1d", "25h", "9" * 30 + "h", "0s"])
                                | json_values)
    keys = st.sampled_from(["note", "step", "cue", "duration", "Command", "door"]) | any_text
    body.update(draw(st.dictionaries(keys, json_values, max_size=1)))
    return body


def failure(note: Any) -> dict[str, Any]:
    return {"command": "fail", "note": note}


def to_bytes(value: Any, raw: bool = False) -> bytes:
    """JSON text; lone surrogates JSON-escaped ("\\ud800"), or with `raw` as their bare bytes."""
    if raw:
        return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return json.dumps(value).encode()


# --- who may command: Host, then Origin, then the token ----------------------------------

HOSTS = {  # name -> passes the Host check (DNS rebinding needs a name we do not know)
    "127.0.0.1": True, "localhost": True, "LocalHost": True, "[::1]": True, "192.168.1.20": True,
    "attacker.example": False, "localhost.attacker.example": False,
}
# label -> (the Origin header for a Host header, counts as our own page)
ORIGINS: dict[str, tuple[Callable[[str], str | None], bool]] = {
    "none": (lambda host: None, True),
    "own": (lambda host: f"http://{host}", True),
    "own, upper case": (lambda host: f"HTTP://{host.upper()}", True),
    "foreign": (lambda host: "http://evil.example", False),
    "null": (lambda host: "null", False),
    "https": (lambda host: f"https://{host}", False),
    "own with a path": (lambda host: f"http://{host}/", False),
}
AUTHS = {  # label -> (Authorization header, the bearer token it presents; None: falls to ?token=)
    "none": (None, None),
    "right": (f"Bearer {TOKEN}", TOKEN),
    "scheme in lower case": (f"bearer {TOKEN}", TOKEN),
    "wrong": ("Bearer wrong", "wrong"),
    "token in upper case": (f"Bearer {TOKEN.upper()}", TOKEN.upper()),
    "another scheme": (f"Basic {TOKEN}", None),
    "bearer, no token": ("Bearer ", None),
}
QUERIES = {"none": None, "right": TOKEN, "wrong": "nope"}


@dataclass(frozen=True)
class Caller:
    host: str
    with_port: bool
    origin: str
    auth: str
    query: str

    def headers(self, port: int) -> dict[str, str]:
        host = f"{self.host}:{port}" if self.with_port else self.host
        origin, auth = ORIGINS[self.origin][0](host), AUTHS[self.auth][0]
        return {"Host": host, **({"Origin": origin} if origin else {}),
                **({"Authorization": auth} if auth else {})}

    def path(self, path: str) -> str:
        token = QUERIES[self.query]
        return path if token is None else f"{path}?token={token}"

    def denial(self) -> int | None:
        """The status every command from this caller must get, whatever it says; None if none."""
        if not HOSTS[self.host] or not ORIGINS[self.origin][1]:
            return 403
        presented = AUTHS[self.auth][1]
        if presented is None:
            presented = QUERIES[self.query]
        return None if presented == TOKEN else 401


callers = st.builds(
    Caller, st.sampled_from(list(HOSTS)), st.booleans(), st.sampled_from(list(ORIGINS)),
    st.sampled_from(list(AUTHS)), st.sampled_from(list(QUERIES)),
)
