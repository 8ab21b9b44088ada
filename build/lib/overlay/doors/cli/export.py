"""`study-overlay export`: one session as a Markdown study note, CSV (a row per failure) or JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import tzinfo
from typing import Any

from ...runtime.recap import _when, clock, to_markdown

__all__ = ["clock", "to_csv", "to_json", "to_markdown"]


def to_json(detail: dict[str, Any]) -> str:
    return json.dumps(detail, indent=2, ensure_ascii=False) + "\n"


def to_csv(detail: dict[str, Any], tz: tzinfo | None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["session", "seq", "at", "step_id", "step_title", "note"])
    for f in detail["failure_log"]:
        writer.writerow([
            detail["number"], f["seq"], _when(f["at"], tz, "%Y-%m-%dT%H:%M:%S%z"),
            f["step_id"], f["step_title"], f["note"],
        ])
    return out.getvalue()
