"""The sound page (/overlay/sound, an invisible browser source) and the cues' files (/sounds/NAME).

A cue's file is the one config.yaml names, else the one the package ships; no path ever comes
from the request.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from ..core.sound import CUES
from .overlays import live_of, options, render

SHIPPED = Path(__file__).resolve().parent / "static" / "sounds"


def cue_file(request: web.Request, cue: str) -> Path:
    chosen = live_of(request).config.sounds.cues[cue].file
    return Path(chosen) if chosen else SHIPPED / f"{cue}.wav"


async def sound_file(request: web.Request) -> web.StreamResponse:
    cue = request.match_info["cue"]
    if cue not in CUES:
        raise web.HTTPNotFound(text=f"no sound cue {cue[:40]!r}; cues are: {', '.join(CUES)}")
    path = cue_file(request, cue)
    if not path.is_file():  # a file of the streamer's moved away since the service started
        raise web.HTTPNotFound(text=f"the file of the {cue} cue is gone: {path.name}")
    # Checked each time (the streamer may replace the file), 304 when unchanged.
    return web.FileResponse(path, headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})


async def sound_page(request: web.Request) -> web.Response:
    """Nothing to see: it plays the cues. One such browser source for the whole scene collection."""
    opts = options(request.query)
    live = live_of(request)
    return render(request, "sound.html", snap=live.snapshot(live.dispatcher.clock()), opts=opts,
                  classes="so so-sound")
