"""RFC 6902 patches applied in Python, as overlay.js applies them in pages: for tests."""

from __future__ import annotations

import copy
from typing import Any

from overlay.runtime.patch import Op


def apply(doc: Any, ops: list[Op]) -> Any:
    """`doc` with the operations applied, `doc` itself untouched."""
    root = {"": copy.deepcopy(doc)}
    for op in ops:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        node: Any = root
        keys: list[str | int] = ["", *parts]
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) else node[key]
        last = keys[-1]
        if isinstance(node, list):
            if op["op"] == "remove":
                del node[int(last)]
            elif op["op"] == "add":
                node.insert(len(node) if last == "-" else int(last), op["value"])
            else:
                node[int(last)] = op["value"]
        elif op["op"] == "remove":
            del node[last]
        else:
            node[last] = op["value"]
    return root[""]
