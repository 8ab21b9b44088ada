"""`study-overlay twitch login | logout | status`: the Twitch login, kept in the SQLite file.

It works whether the service runs or not: the login goes into the file, and a running service is
told to read it again (POST /api/twitch/reload), so it connects without a restart.
"""

from __future__ import annotations

import asyncio
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

from ...core.settings import Config
from ...i18n import Language
from ...storage.store import StorageError
from ...storage.tokens import LoginStore
from ..twitch import auth
from .client import Target


def run(action: str, config: Config, db: Path | None, target: Target, lang: Language) -> int:
    store = LoginStore(db or config.storage_path)
    try:
        if action == "status":
            return _status(store, lang)
        if not config.twitch.client_id:
            missing = lang("twitch.client_id is not set in config.yaml: register a Public application "
                           "at dev.twitch.tv/console (README: Twitch chat)")
            print(f"twitch: {missing}", file=sys.stderr)
            return 2
        if action == "login":
            code = asyncio.run(_login(config, store, lang))
        else:
            code = asyncio.run(_logout(config, store, lang))
    except StorageError as exc:
        print(f"twitch: {exc}", file=sys.stderr)
        return 2
    if code == 0:
        _tell_the_service(target, lang)
    return code


def _status(store: LoginStore, lang: Language) -> int:
    login = store.load()
    if login is None:
        print(lang("Twitch: not logged in"))
        return 1
    print(lang("Twitch: logged in as %(login)s (scopes: %(scopes)s)", login=login.login,
               scopes=" ".join(login.scopes)))
    return 0


async def _login(config: Config, store: LoginStore, lang: Language) -> int:
    import aiohttp

    tw = config.twitch
    async with aiohttp.ClientSession() as http:
        try:
            code = await auth.start(http, tw.urls, tw.client_id, tw.scopes)
        except auth.TwitchError as exc:
            print(f"twitch: {exc}", file=sys.stderr)
            return 2
        minutes = max(1, round(code.expires_in / 60))
        print(lang("Open this address and enter the code (it expires in %(minutes)s minutes):",
                   minutes=minutes))
        print(code.verification_uri)
        print(code.user_code, flush=True)
        print(lang("Waiting for you to approve on Twitch…"), flush=True)
        try:
            login = await auth.wait_for_approval(http, tw.urls, tw.client_id, tw.scopes, code)
        except auth.LoginFailed as exc:
            print(f"twitch: {exc}", file=sys.stderr)
            return 1
        except auth.TwitchError as exc:
            print(f"twitch: {exc}", file=sys.stderr)
            return 2
    store.save(login)  # before anything uses it
    print(lang("Logged in to Twitch as %(login)s.", login=login.login))
    return 0


async def _logout(config: Config, store: LoginStore, lang: Language) -> int:
    import aiohttp

    login = store.load()
    if login is None:
        print(lang("Twitch: not logged in"))
        return 0
    store.clear()
    async with aiohttp.ClientSession() as http:
        try:  # Twitch forgets it too; the login is gone here whatever Twitch says
            await auth.revoke(http, config.twitch.urls, config.twitch.client_id, login.refresh_token)
            await auth.revoke(http, config.twitch.urls, config.twitch.client_id, login.access_token)
        except auth.TwitchError:
            pass
    print(lang("Logged out of Twitch (%(login)s).", login=login.login))
    return 0


def _tell_the_service(target: Target, lang: Language) -> None:
    headers = {"Content-Type": "application/json", "X-Study-Overlay-Door": "cli"}
    if target.token:
        headers["Authorization"] = f"Bearer {target.token}"
    request = urllib.request.Request(f"{target.url}/api/twitch/reload", data=b"{}", headers=headers,
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=3) as answer:
            json.loads(answer.read())
        print(lang("The running service took up the change."))
    except (urllib.error.URLError, OSError, ValueError):
        pass  # not running: it reads the login when it starts
