"""What the package ships for a streamer's first start: the routine (config.yaml, the same file as
the clone's) and the scenes for `obs setup` (scenes.yaml). tests/test_install.py keeps them equal
to the clone's own."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "config.yaml"
SCENES = HERE / "scenes.yaml"
