"""`twitch:` in config.yaml: the chat link (a Public app's client id, never a secret)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..core.chat import WORDS, TwitchConfig, TwitchUrls

if TYPE_CHECKING:
    from .load import _Reader
    from .yamlpaths import Path as KeyPath

_CLIENT_ID = re.compile(r"[a-z0-9]{20,64}")
_NAME = re.compile(r"[A-Za-z0-9_]{1,25}")


def read_twitch(r: _Reader, raw: Any) -> TwitchConfig:
    path: KeyPath = ("twitch",)
    m = r.mapping(raw, path, {"enabled", "client_id", "prefix", "names", "reply_every", "cooldown", "urls",
                                   "post_recap", "markers"})
    default = TwitchConfig()
    enabled = r.boolean(m, path, "enabled", False)
    client_id = r.string(m, path, "client_id", "").strip()
    if client_id and not _CLIENT_ID.fullmatch(client_id):
        raise r.fail((*path, "client_id"), "expected the Client ID of your Twitch application (about 30 "
                                          "lowercase letters and digits, from dev.twitch.tv/console)")
    if enabled and not client_id:
        raise r.fail((*path, "client_id"), "is required when twitch.enabled is true: register a Public "
                                          "application at dev.twitch.tv/console (README: Twitch chat)")
    prefix = r.string(m, path, "prefix", "!").strip()
    if not 1 <= len(prefix) <= 3 or any(c.isspace() or c.isalnum() for c in prefix):
        raise r.fail((*path, "prefix"), f"expected 1 to 3 symbols such as ! or ?, got {prefix!r}")
    names = _names(r, m.get("names"), (*path, "names"))
    um = r.mapping(m.get("urls"), (*path, "urls"), {"auth", "api", "eventsub"})
    urls = TwitchUrls(
        auth=_url(r, um, (*path, "urls"), "auth", default.urls.auth, ("https", "http")),
        api=_url(r, um, (*path, "urls"), "api", default.urls.api, ("https", "http")),
        eventsub=_url(r, um, (*path, "urls"), "eventsub", default.urls.eventsub, ("wss", "ws")),
    )
    return TwitchConfig(
        enabled=enabled, client_id=client_id, prefix=prefix, names=names,
        reply_every=r.duration(m, path, "reply_every") or default.reply_every,
        cooldown=r.duration(m, path, "cooldown") or default.cooldown, urls=urls,
        post_recap=r.boolean(m, path, "post_recap", False),
        markers=r.boolean(m, path, "markers", False),
    )


def _names(r: _Reader, raw: Any, path: KeyPath) -> dict[str, str]:
    """names: {fails: fehler}: what viewers type for each of ours (without the prefix)."""
    m = r.mapping(raw, path, set(WORDS))
    names = {word: r.string(m, path, word, word).strip() for word in WORDS}
    for word, name in names.items():
        if not _NAME.fullmatch(name):
            raise r.fail((*path, word), f"expected one word of letters, digits or _, got {name!r}")
    typed = [n.lower() for n in names.values()]
    for word, name in names.items():
        if typed.count(name.lower()) > 1:
            raise r.fail((*path, word), f"{name!r} names two commands")
    return names


def _url(r: _Reader, m: dict[str, Any], path: KeyPath, key: str, default: str,
         schemes: tuple[str, ...]) -> str:
    value = r.string(m, path, key, default).strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname:
        raise r.fail((*path, key), f"expected a {schemes[0]}:// address, got {value!r}")
    if parts.scheme == schemes[1] and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise r.fail((*path, key), f"{schemes[1]}:// only on loopback (a test server); Twitch is "
                                   f"{schemes[0]}://")
    return value
