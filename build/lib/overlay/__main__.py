from __future__ import annotations

from .doors.cli.main import main

raise SystemExit(main())
