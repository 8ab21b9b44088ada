"""/setup: from nothing to a working stream, in the browser.

OBS's connection (tested before it is saved), its scenes, the overlay addresses, the routine,
the hotkeys and Twitch. Every save is a command in the security sense (same origin or the
token), is checked by the rules `serve` applies at start, is written into config.yaml with its
comments kept, and is applied at once. The OBS password and Twitch tokens never reach the page.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from ..config import ConfigError, edit
from ..core.settings import Config
from ..doors.hotkeys.listener import HotkeyService
from ..doors.http.api import read_json
from ..doors.obs.door import ObsPart
from ..doors.obs.setup import probe, run_setup, scenes_dir
from ..pages.overlays import OVERLAYS, SIZES, keep_query, live_of, options, render
from ..runtime.dispatcher import NotSaved
from ..runtime.live import Live
from ..runtime.security import command_denied, error, presented_token, token_ok

OBS = web.AppKey("obs", ObsPart)
SAVING = web.AppKey("setup_saving", asyncio.Lock)  # one save at a time: each checks what the last wrote
HOTKEYS = web.AppKey("hotkeys", HotkeyService)
F = TypeVar("F")  # a parsed form
CHECK_MOST_S = 120  # "press it now" listens this long at most
# Read by the service only at start; a save that changes them says so.
AT_START = ("server", "storage_path", "hotkeys", "twitch")
SETUP_WORDS = ("overlay.js", "setup.js", "page.py", "setup.py", "link.py", "live.py", "listener.py",
               "door.py", "auth.py", "eventsub.py", "helix.py", "app.py")


def form_data(config: Config, text: str | None = None) -> dict[str, Any]:
    """What the page's forms show (from config.yaml's `text`, read if not given): never a password
    or a token."""
    if text is None:
        text = config.source.read_text(encoding="utf-8") if config.source else ""
    deadline, goal = config.deadline, config.goal
    return {
        "version": edit.version(text),
        "path": str(config.source) if config.source else None,
        "obs": {"enabled": config.obs.enabled, "host": config.obs.host, "port": config.obs.port,
                "password_set": bool(config.obs.password)},
        "steps": edit.steps_of(config),
        "deadline": {"at": deadline.at.isoformat() if deadline else "",
                     "label": deadline.label if deadline else ""},
        "goal": {"units": goal.units if goal else None, "unit": goal.unit if goal else ""},
        "hotkeys": [{"combo": combo, "command": command.name}
                    for combo, command in config.hotkeys.bindings.items()],
        "hotkeys_enabled": config.hotkeys.enabled,
        "twitch_enabled": config.twitch.enabled,
    }


async def setup_page(request: web.Request) -> web.Response:
    live = live_of(request)
    config = live.config
    needs_token = ""
    if config.server.token and not token_ok(request, config.server):
        needs_token = "wrong" if presented_token(request) else "missing"
    base = config.server.base_url
    overlays = [{"name": kind, "url": f"{base}/overlay/{kind}", "width": SIZES[kind][0],
                 "height": SIZES[kind][1]} for kind in OVERLAYS]
    theme = options(request.query).theme
    snap = live.page_snapshot(live.dispatcher.clock())
    return render(request, "setup.html", snap=snap, form=form_data(config),
                  needs_token=needs_token, overlay_urls=overlays, sound_url=f"{base}/overlay/sound",
                  words=SETUP_WORDS, classes=f"so so-setup theme-{theme}", q=keep_query(request))


async def get_setup(request: web.Request) -> web.Response:
    return web.json_response(form_data(live_of(request).config))


async def _command_body(request: web.Request) -> tuple[Live, dict[str, Any], web.Response | None]:
    live = live_of(request)
    denied = command_denied(request, live.config.server)
    if denied is not None:
        return live, {}, denied
    data, refused = await read_json(request, "send the form as a JSON object")
    if refused is not None:
        return live, {}, refused
    if not isinstance(data, dict):
        return live, {}, error(400, "expected a JSON object")
    return live, data, None


class BadForm(Exception):
    pass


def _text(data: dict[str, Any], key: str, most: int = 200) -> str:
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > most or "\x00" in value:
        raise BadForm(f"{key}: expected text of at most {most} characters")
    return value


def _port(data: dict[str, Any]) -> int:
    value = data.get("port")
    if isinstance(value, str) and value.strip().isdecimal():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise BadForm(f"port: expected a port number 1-65535, got {value!r}")
    return value


def _obs_form(data: dict[str, Any]) -> edit.ObsForm:
    password = data.get("password")
    if password is not None and (not isinstance(password, str) or len(password) > 200):
        raise BadForm("password: expected text of at most 200 characters, or null to keep the saved one")
    host = _text(data, "host").strip()
    if not host:
        raise BadForm("host: expected a host name or address, like 127.0.0.1")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise BadForm("enabled: expected true or false")
    return edit.ObsForm(enabled=enabled, host=host, port=_port(data), password=password)


def _routine_form(data: dict[str, Any]) -> edit.RoutineForm:
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps or len(raw_steps) > 50:
        raise BadForm("steps: expected a list of 1 to 50 steps")
    steps = []
    for i, raw in enumerate(raw_steps):
        if not isinstance(raw, dict):
            raise BadForm(f"steps[{i}]: expected an object with title, target, scene and focus")
        step_id = raw.get("id")
        if step_id is not None and not isinstance(step_id, str):
            raise BadForm(f"steps[{i}].id: expected text or null for a new step")
        focus = raw.get("focus", False)
        if not isinstance(focus, bool):
            raise BadForm(f"steps[{i}].focus: expected true or false")
        try:
            steps.append(edit.StepForm(id=step_id or None, title=_text(raw, "title"),
                                       target=_text(raw, "target", 20), scene=_text(raw, "scene"),
                                       focus=focus))
        except BadForm as exc:
            raise BadForm(f"steps[{i}].{exc}") from None
    deadline = data.get("deadline") or {}
    goal = data.get("goal") or {}
    if not isinstance(deadline, dict) or not isinstance(goal, dict):
        raise BadForm("deadline and goal: expected objects")
    units = goal.get("units")
    if units in ("", None):
        units = None
    elif isinstance(units, str) and units.strip().isdecimal():
        units = int(units.strip())
    if units is not None and (isinstance(units, bool) or not isinstance(units, int)
                              or not 0 <= units <= 100000):
        raise BadForm("goal.units: expected a whole number, or nothing for no goal")
    return edit.RoutineForm(steps=tuple(steps), deadline_at=_text(deadline, "at", 40),
                            deadline_label=_text(deadline, "label"), goal_units=units or None,
                            goal_unit=_text(goal, "unit", 40))


async def _save_form(
    request: web.Request, parse: Callable[[dict[str, Any]], F], change: Callable[[str, F], str]
) -> tuple[Config, Config, str] | web.Response:
    """One save, whatever the form: parse it, write config.yaml changed by it (if the file still
    holds what the page saw), apply it; (old config, new config, text written), or the answer why not."""
    async with request.app[SAVING]:  # one at a time: each checks what the last one wrote
        live, data, refused = await _command_body(request)
        if refused is not None:
            return refused
        try:
            form = parse(data)
        except BadForm as exc:
            return error(400, str(exc))
        path, seen = live.config.source, data.get("version")
        if path is None:
            return error(409, "this service was started without a config file, so there is none to save to")
        if not isinstance(seen, str):
            return error(400, "version: send back the version the page was given")
        old = live.config
        try:
            new, text = await asyncio.to_thread(edit.save, path, seen, lambda current: change(current, form))
        except edit.Stale as exc:
            return error(409, str(exc))
        except ConfigError as exc:
            return error(400, f"{path.name}: {exc}")
        except OSError as exc:
            return error(503, f"cannot read or write {path}: {exc.strerror or exc}")
        # What --host, --port and --db gave at start stays until the next start.
        running = dataclasses.replace(new, server=old.server, storage_path=old.storage_path)
        try:
            await live.reconfigure(running)
        except NotSaved as exc:
            return error(503, f"saved to {path.name}, but not applied: {exc}; restart the service")
        return old, new, text


def _saved(request: web.Request, old: Config, new: Config, text: str, **extra: Any) -> web.Response:
    config = live_of(request).config
    return web.json_response({"ok": True, "form": form_data(config, text), "at_start": _at_start(old, new),
                              **extra})


def _at_start(old: Config, new: Config) -> list[str]:
    names = {"storage_path": "storage"}
    return [names.get(key, key) for key in AT_START if getattr(old, key) != getattr(new, key)]


async def save_obs(request: web.Request) -> web.Response:
    saved = await _save_form(request, _obs_form, edit.edit_obs)
    if isinstance(saved, web.Response):
        return saved
    old, new, text = saved
    if old.obs != new.obs and OBS in request.app:
        await request.app[OBS].restart()
    return _saved(request, old, new, text)


async def save_routine(request: web.Request) -> web.Response:
    saved = await _save_form(request, _routine_form, edit.edit_routine)
    if isinstance(saved, web.Response):
        return saved
    return _saved(request, *saved, rev=live_of(request).dispatcher.rev)


async def test_obs(request: web.Request) -> web.Response:
    """Try host, port and password (or the saved password when none is sent); change nothing."""
    live, data, refused = await _command_body(request)
    if refused is not None:
        return refused
    try:
        form = _obs_form({"enabled": True, **data})
    except BadForm as exc:
        return error(400, str(exc))
    password = form.password if form.password is not None else live.config.obs.password
    return web.json_response(await asyncio.to_thread(probe, form.host, form.port, password))


async def scenes(request: web.Request) -> web.Response:
    """The plan for OBS's scenes (`"apply": false`) or its result, as `obs setup` prints them."""
    live, data, refused = await _command_body(request)
    if refused is not None:
        return refused
    apply = data.get("apply", False)
    if not isinstance(apply, bool):
        return error(400, "apply: expected true or false")
    obs, out = live.config.obs, io.StringIO()
    status = await asyncio.to_thread(
        run_setup, host=obs.host, port=obs.port, password=obs.password, base_url=live.config.server.base_url,
        scenes_dir=scenes_dir(live.config.source), dry_run=not apply, out=out)
    return web.json_response({"status": status, "lines": out.getvalue().splitlines()})


async def check_hotkeys(request: web.Request) -> web.Response:
    """"Press it now": for a while, a bound press shows on the page and runs nothing."""
    live, data, refused = await _command_body(request)
    if refused is not None:
        return refused
    seconds = data.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= CHECK_MOST_S:
        return error(400, f"seconds: expected a number from 0 to {CHECK_MOST_S}")
    service = request.app.get(HOTKEYS)
    if service is None or service.status.state != "active":
        return error(409, "global hotkeys are not listening: " + str(live.status["hotkeys"]["reason"]))
    service.check(float(seconds))
    return web.json_response({"ok": True, "checking": seconds > 0})

