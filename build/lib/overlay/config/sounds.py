"""`sounds:` and `deadline.remind` in config.yaml: which cues play, with which file, how loud."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.sound import CUES, Cue, Sounds

if TYPE_CHECKING:
    from .load import _Reader
    from .yamlpaths import Path as KeyPath

# What Chromium (and so OBS's browser source) plays.
AUDIO = (".wav", ".mp3", ".ogg", ".oga", ".opus", ".flac", ".m4a", ".webm")
MAX_FILE = 10 * 1024 * 1024  # a cue is a few seconds; a bigger file is a mistake (a whole album)


def read_sounds(r: _Reader, raw: Any, base_dir: Path) -> Sounds:
    """sounds: {break: {file: gong.wav, volume: 0.5}, fail: true, target: false}"""
    path: KeyPath = ("sounds",)
    m = r.mapping(raw, path, set(CUES))
    return Sounds(cues={name: _cue(r, m.get(name), (*path, name), name, base_dir) for name in CUES})


def _cue(r: _Reader, raw: Any, path: KeyPath, name: str, base_dir: Path) -> Cue:
    default = Sounds().cues[name]
    if isinstance(raw, bool):
        return Cue(enabled=raw)
    if raw is not None and not isinstance(raw, dict):
        raise r.fail(path, "expected true, false or a mapping (enabled, file, volume)")
    m = r.mapping(raw, path, {"enabled", "file", "volume"})
    volume = m.get("volume", default.volume)
    if isinstance(volume, bool) or not isinstance(volume, int | float) or not 0 <= volume <= 1:
        raise r.fail((*path, "volume"), f"expected a number from 0 to 1 (0.5 is half), got {volume!r}")
    file = r.opt_string(m, path, "file")
    return Cue(enabled=r.boolean(m, path, "enabled", True if raw else default.enabled),
               file=_file(r, file, (*path, "file"), base_dir), volume=float(volume))


def _file(r: _Reader, name: str | None, path: KeyPath, base_dir: Path) -> str | None:
    if name is None:
        return None
    file = Path(name).expanduser()
    file = file if file.is_absolute() else base_dir / file
    if file.suffix.lower() not in AUDIO:
        raise r.fail(path, f"{name!r} is not a sound file a browser plays; use one of: {', '.join(AUDIO)}")
    try:
        size = file.stat().st_size
        if not file.is_file():
            raise r.fail(path, f"{name!r} is not a file")
        with file.open("rb"):
            pass
    except OSError as exc:
        raise r.fail(path, f"cannot read {name!r} ({exc.strerror or exc}); the path is relative to "
                           "config.yaml") from None
    if size > MAX_FILE:
        raise r.fail(path, f"{name!r} is {size // 1_000_000} MB; a cue plays a few seconds (at most 10 MB)")
    return str(file)
