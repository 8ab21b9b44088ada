"""Write the .gz beside each static file, which aiohttp serves to clients that take gzip.

Run after editing anything in overlay/pages/static (`make assets`); a test fails while a .gz
is stale. Deterministic output (mtime 0), so an unchanged file gives an unchanged .gz.
"""

from __future__ import annotations

import gzip
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "overlay" / "pages" / "static"


def main() -> None:
    for path in sorted(STATIC.iterdir()):
        if path.suffix in (".css", ".js"):
            packed = gzip.compress(path.read_bytes(), 9, mtime=0)
            target = path.with_name(path.name + ".gz")
            if not target.exists() or target.read_bytes() != packed:
                target.write_bytes(packed)
                print(f"wrote {target.relative_to(STATIC.parent.parent.parent)}")


if __name__ == "__main__":
    main()
