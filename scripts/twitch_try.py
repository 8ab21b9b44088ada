"""Try the Twitch chat link against the real Twitch with your own account (not run in CI).

    .venv/bin/python scripts/twitch_try.py --config config.yaml

It needs twitch.client_id in the config (README: Twitch chat). It logs in with a code (or uses the
login already in the database), connects to your chat over EventSub, answers `!fails` and the
other questions from a throwaway state, and prints what it reads and sends. Type `!fails` in your
channel's chat to see a reply; Ctrl+C stops it. Nothing is written but the login row.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402

from overlay.config import load_config  # noqa: E402
from overlay.core import chat, views  # noqa: E402
from overlay.core import session as core  # noqa: E402
from overlay.doors.twitch import auth, replies  # noqa: E402
from overlay.doors.twitch.eventsub import ChatMessage, EventSub  # noqa: E402
from overlay.doors.twitch.helix import Helix  # noqa: E402
from overlay.i18n import language  # noqa: E402
from overlay.runtime.dispatcher import utc_now  # noqa: E402
from overlay.storage.tokens import LoginStore  # noqa: E402


async def main(config_path: str) -> int:
    config = load_config(config_path)
    tw = config.twitch
    if not tw.client_id:
        print("set twitch.client_id first (README: Twitch chat)")
        return 2
    store = LoginStore(config.storage_path)
    lang = language(config.language)
    state, _ = core.apply(core.State(), core.Start(), utc_now(), len(config.steps))
    async with aiohttp.ClientSession() as http:
        login = store.load()
        if login is None or await auth.validate(http, tw.urls, login.access_token) is None:
            if login is not None:
                login = await auth.refresh(http, tw.urls, tw.client_id, login)
            else:
                code = await auth.start(http, tw.urls, tw.client_id, chat.SCOPES)
                print(f"open {code.verification_uri} and enter {code.user_code}")
                login = await auth.wait_for_approval(http, tw.urls, tw.client_id, chat.SCOPES, code)
            store.save(login)
        print(f"logged in as {login.login}; scopes {login.scopes}")
        helix = Helix(http, tw.urls, tw.client_id)
        me = login.user_id

        async def subscribe(session_id: str) -> None:
            await helix.subscribe_chat(login.access_token, session_id, me, me)
            print("subscribed to", login.login, "chat; type !fails there")

        async def on_chat(message: ChatMessage) -> None:
            print(f"<{message.chatter_login} {list(message.badges)}> {message.text}")
            asked = chat.read(message.text, message.badges, tw)
            if asked is None or asked.word not in chat.QUESTIONS:
                return
            snap = views.snapshot(state, config, utc_now(), 1)
            text = replies.answer(asked.word, snap, lang)
            sent = await helix.send(login.access_token, me, me, text, message.message_id)
            print(f"  -> {text!r}: {'sent' if sent.ok else 'dropped: ' + sent.reason}")

        await EventSub(http, tw.urls.eventsub, subscribe, on_chat, lambda: print("connected")).run()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="config.yaml")
    try:
        sys.exit(asyncio.run(main(parser.parse_args().config)))
    except KeyboardInterrupt:
        pass
