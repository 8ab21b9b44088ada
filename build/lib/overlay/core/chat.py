"""Twitch chat settings, and what a chat message asks for. Pure: no network, no clock.

A chat message is a question (`!fails`, `!step`, `!deadline`, `!routine`, `!focus`), answered
from the snapshot, or a command (`!fail NOTE`, `!undofail`) that goes through the one dispatch
like every door's, allowed to the broadcaster and moderators only (the badges Twitch sends).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

QUESTIONS = ("fails", "step", "deadline", "routine", "focus")
ACTIONS = ("fail", "undofail", "undo")  # they change the state: broadcaster and moderators only
WORDS = (*QUESTIONS, *ACTIONS)
SCOPES = ("user:read:chat", "user:write:chat")
MARKER_SCOPE = "channel:manage:broadcast"
MESSAGE_MAX = 500  # Twitch's limit for one chat message


@dataclass(frozen=True)
class TwitchUrls:
    auth: str = "https://id.twitch.tv/oauth2"
    api: str = "https://api.twitch.tv/helix"
    eventsub: str = "wss://eventsub.wss.twitch.tv/ws"


@dataclass(frozen=True)
class TwitchConfig:
    enabled: bool = False
    client_id: str = ""
    prefix: str = "!"
    names: Mapping[str, str] = field(default_factory=lambda: {w: w for w in WORDS})  # ours -> typed
    reply_every: timedelta = timedelta(seconds=2)  # the global pace of replies
    cooldown: timedelta = timedelta(seconds=10)  # the same question answered again after this
    post_recap: bool = False  # at `finish`, the session's short recap to chat, once
    markers: bool = False  # a stream marker at each step change while live (one more scope)

    @property
    def scopes(self) -> tuple[str, ...]:
        """What the login asks for: markers need channel:manage:broadcast, asked only then."""
        return (*SCOPES, MARKER_SCOPE) if self.markers else SCOPES
    urls: TwitchUrls = field(default_factory=TwitchUrls)


@dataclass(frozen=True)
class Asked:
    """What one chat message asks: `word` is ours (fails, fail, ...), whatever name it was typed as."""

    word: str
    rest: str  # the text after the command (a failure's note)
    allowed: bool  # the chatter may do it: always for a question; a moderator for an action


PRIVILEGED = frozenset({"broadcaster", "moderator"})


def read(text: str, badges: Sequence[str], config: TwitchConfig) -> Asked | None:
    """`!fail forgot the chain rule` -> Asked("fail", "forgot the chain rule", True); None for chat
    that is not one of ours."""
    text = text.strip()
    if not text.startswith(config.prefix):
        return None
    typed, _, rest = text[len(config.prefix):].partition(" ")
    by_name = {name.lower(): word for word, name in config.names.items()}
    word = by_name.get(typed.lower())
    if word is None:
        return None
    allowed = word in QUESTIONS or bool(PRIVILEGED & set(badges))
    return Asked(word, rest.strip(), allowed)
