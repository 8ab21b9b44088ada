from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, Phase, settings
from playwright.sync_api import Browser

from overlay.app import build_app
from overlay.config import Config, parse_config
from overlay.storage.store import Storage

# Property-based tests (test_fuzz.py): the same 60 examples a test every run, so `make test`
# spends a few seconds on them and never flakes; HYPOTHESIS_PROFILE=long searches wider, afresh
# each run. No explain phase: it traces every line and takes ~30 s to name the lines a failing
# case ran. No example database to commit or trip over (.hypothesis/ keeps only ignored caches).
settings.register_profile(
    "default", max_examples=60, deadline=None, derandomize=True, database=None, print_blob=False,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.generate, Phase.target, Phase.shrink],
)
settings.register_profile("long", settings.get_profile("default"), max_examples=2000, derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)

ROUTINE = """
steps:
  - {id: review, title: Review last notes, target: 15m, scene: Review}
  - {id: lecture, title: Watch the lecture, target: 45m, scene: Lecture}
  - {id: project, title: One project, scene: Project}
deadline:
  at: 2026-12-01T18:00:00+01:00
  label: Course final
"""


def require_real(*tools: str) -> None:
    """Skip when a real part is missing, or fail when CI says it must be there."""
    missing = [t for t in tools if shutil.which(t) is None and not Path(t).exists()]
    if missing:
        message = f"missing real part(s): {', '.join(missing)}"
        if os.environ.get("STUDY_OVERLAY_REQUIRE_REAL") == "1":
            pytest.fail(message)
        pytest.skip(message)


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Config]:
    def make(text: str = ROUTINE, **server: object) -> Config:
        extra = ""
        if server:
            extra = "server:\n" + "".join(f"  {k}: {v!r}\n" for k, v in server.items())
        # One service per database: a server configured otherwise gets a file of its own.
        name = "-".join(["study", *server]) + ".sqlite3"
        body = text + extra + f"storage:\n  path: {tmp_path / name}\n"
        return parse_config(body, base_dir=tmp_path)

    return make


@pytest.fixture
def config(make_config: Callable[..., Config]) -> Config:
    return make_config()


@pytest.fixture
async def client(
    config: Config, clock: FakeClock
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = build_app(config, Storage(config.storage_path, config.steps), clock=clock)
    async with TestClient(TestServer(app)) as c:
        yield c


@pytest.fixture
async def token_client(
    make_config: Callable[..., Config], clock: FakeClock
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """A server whose commands need server.token "s3cret-token"."""
    config = make_config(token="s3cret-token")
    app = build_app(config, Storage(config.storage_path, config.steps), clock=clock)
    async with TestClient(TestServer(app)) as c:
        yield c


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One real Chromium per test module (tests/browser.py)."""
    from .browser import running_chromium

    yield from running_chromium()
