"""`study-overlay init` and `study-overlay where`: a streamer's first config, and what is in use.

The config goes to the user's config folder and the database to the user's data folder, as each
platform has them (platformdirs): ~/.config/study-overlay and ~/.local/share/study-overlay on
Linux, %LOCALAPPDATA%\\study-overlay on Windows, ~/Library/Application Support/study-overlay on
macOS. An existing config is never overwritten.
"""

from __future__ import annotations

import re
import sys
import urllib.request
from pathlib import Path

import platformdirs

from ... import defaults

APP = "study-overlay"
CONFIG_NAME = "config.yaml"
DB_NAME = "study-overlay.sqlite3"


def user_config_dir() -> Path:
    return platformdirs.user_config_path(APP, appauthor=False)


def user_data_dir() -> Path:
    return platformdirs.user_data_path(APP, appauthor=False)


def init() -> int:
    folder = user_config_dir()
    target = folder / CONFIG_NAME
    if target.exists():
        print(f"{target} is already there; left as it is")
        return 0
    db = user_data_dir() / DB_NAME
    text = defaults.CONFIG.read_text(encoding="utf-8")
    # The database in the user's data folder (a YAML string, so any path and any platform fits).
    text, found = re.subn(r"(?m)^(  path: ).*$", lambda m: f'{m.group(1)}"{_yaml_escape(str(db))}"', text,
                          count=1)
    if not found:
        print("study-overlay: the shipped config has no storage.path; this is a bug", file=sys.stderr)
        return 2
    folder.mkdir(parents=True, exist_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    scenes = folder / "scenes" / "scenes.yaml"
    if not scenes.exists():
        scenes.parent.mkdir(parents=True, exist_ok=True)
        scenes.write_text(defaults.SCENES.read_text(encoding="utf-8"), encoding="utf-8")
    print(f"wrote {target}")
    print("  the routine, the deadline, OBS, hotkeys: edit it there (every key is explained in it)")
    print(f"  the database will be {db}")
    print(f"  the scenes for `study-overlay obs setup`: {scenes.parent}")
    print("next: study-overlay serve, then open the address it prints")
    return 0


def _yaml_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def where(config_path: str, found: bool) -> int:
    """The config in use, the database, the address, and whether a service answers there."""
    from ...config import load_config

    print(f"config:   {Path(config_path).resolve()}" + ("" if found else "  (not found: the defaults apply)"))
    if not found:
        print(f"          looked for ./{CONFIG_NAME} and {user_config_dir() / CONFIG_NAME}; "
              "`study-overlay init` writes one")
        return 1
    config = load_config(config_path)
    print(f"database: {config.storage_path.resolve()}")
    url = config.server.base_url
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=1.0) as answer:
            answer.read()
        state = "a service answers there"
    except OSError:
        state = "nothing answers there (study-overlay serve)"
    print(f"address:  {url}  ({state})")
    return 0
