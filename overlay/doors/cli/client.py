"""A tiny HTTP client for the CLI (urllib only, so it starts fast)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...config import load_config
from ...core.display import clock as _clock
from ...core.settings import DEFAULT_PORT
from ...i18n import Language, language, texts

TIMEOUT = 5.0


class Unreachable(Exception):
    """The server did not answer."""


@dataclass(frozen=True)
class Target:
    url: str
    token: str
    note: str = ""  # how the address was chosen, when that may explain a failure
    lang: str = "en"  # the config's language:, for what the CLI prints
    config: str = ""  # the config file the address came from


def target_from(config_path: str, url: str | None, missing: str | None = None) -> Target:
    """Address and token from the config; `missing` says where no config was found."""
    if missing is None:
        config = load_config(config_path)
        return Target((url or config.server.base_url).rstrip("/"), config.server.token,
                      lang=config.language, config=str(Path(config_path).resolve()))
    if url:
        return Target(url.rstrip("/"), "")
    url = f"http://127.0.0.1:{DEFAULT_PORT}"
    # With no config there is no language: but English to say so.
    return Target(url, "", f"{missing}; name one with --config FILE, or the address with --url")


def call(target: Target, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
    """POST a command (or GET the state when body is None); (status, JSON answer)."""
    headers = {"Accept": "application/json", "X-Study-Overlay-Door": "cli"}
    if target.token:
        headers["Authorization"] = f"Bearer {target.token}"
    if body is None:
        request = urllib.request.Request(f"{target.url}/api/state", headers=headers)
    else:
        headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            f"{target.url}/api/commands", data=json.dumps(body).encode(), headers=headers,
            method="POST",
        )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        try:
            payload = json.loads(exc.read())
        except ValueError:
            payload = {"error": f"HTTP {exc.code} {exc.reason}"}
        return exc.code, payload if isinstance(payload, dict) else {"error": str(payload)}
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        lang = language(target.lang)
        hint = target.note or lang("is it running (study-overlay serve, or make run)? The address is "
                                   "from %(config)s", config=target.config)
        raise Unreachable(lang("cannot reach the server at %(url)s (%(reason)s); %(hint)s",
                               url=target.url, reason=reason, hint=hint)) from None


def clock(seconds: float | None) -> str:
    """As the overlays write it: 4:05, 1:02:03."""
    return _clock(int(seconds or 0))


def summary(snap: dict[str, Any], command: str, lang: Language) -> str:
    """One line a person reads after a command."""
    phase = snap.get("phase", "?")
    step = snap.get("step") or {}
    fails = snap.get("failures") or {}
    session = snap.get("session") or {}
    parts = [f"{command}: {texts.phase(lang, phase)}"]
    if command == "fail" and fails.get("log"):
        note = fails["log"][-1]["note"]
        logged = lang("logged failure %(number)s", number=fails.get("session"))
        parts[0] += f" · {logged}" + (f": {note}" if note else "")
    goal = snap.get("goal")
    if command.startswith("unit-") and goal:
        parts[0] += " · " + lang("%(done)s of %(units)s done, %(left)s left", done=goal["done"],
                                 units=texts.units(goal, goal["units"]), left=goal["left"])
    if phase != "idle":
        title = f"{step.get('title')} {clock(step.get('elapsed_s'))}"
        if step.get("target_s"):  # as on the timer overlay: 12:34 / 45:00
            title += f" / {clock(step.get('target_s'))}"
        parts.append(lang("step %(number)s/%(count)s", number=step.get("number"), count=step.get("count"))
                     + " " + title)
        parts.append(lang("session %(time)s", time=clock(session.get("elapsed_s"))))
    parts.append(lang("failures %(session)s (total %(total)s)", session=fails.get("session", 0),
                      total=fails.get("total", 0)))
    deadline = snap.get("deadline")
    if deadline:  # worded as on the bar and in /history: "90 days left"
        parts.append(f"{deadline['label']}: {texts.days_text(lang, deadline['left_s'])}")
    return " · ".join(parts)
