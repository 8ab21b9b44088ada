"""What changed between two snapshots, as a JSON Patch (RFC 6902: add, remove, replace).

Pages ask for patches (`/ws?patch=1`): after the full snapshot, each change is the few fields
it moved, with the `rev` and `status_rev` it applies to. A list that slid (the failure log
gaining one at the end and, past its limit, losing one at the start) is two operations, not
the list again. Pure: no I/O.

Values are compared as JavaScript compares JSON values: 1 and 1.0 are one number. A snapshot's
fields keep their JSON type (a count is never `true`), and a scalar that changes type is replaced.
Unchanged parts are recognised by Python's `==`, in C, before anything is walked.
"""

from __future__ import annotations

from typing import Any

SLIDE = 8  # at most this many items added or removed at a list's ends is told as a slide

Op = dict[str, Any]


def diff(old: Any, new: Any) -> list[Op]:
    """The operations that turn `old` into `new` (both JSON-like: dicts, lists, scalars)."""
    ops: list[Op] = []
    _diff(old, new, "", ops)
    return ops


def _pointer(key: str | int) -> str:
    return "/" + str(key).replace("~", "~0").replace("/", "~1")


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b  # 1, 1.0 and true are three values in JSON


def _diff(a: Any, b: Any, path: str, ops: list[Op]) -> None:
    if isinstance(a, dict | list) and type(a) is type(b) and a == b:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in a:
            if key not in b:
                ops.append({"op": "remove", "path": path + _pointer(key)})
        for key, value in b.items():
            if key not in a:
                ops.append({"op": "add", "path": path + _pointer(key), "value": value})
            else:
                _diff(a[key], value, path + _pointer(key), ops)
    elif isinstance(a, list) and isinstance(b, list):
        _diff_list(a, b, path, ops)
    elif not _same(a, b):
        ops.append({"op": "replace", "path": path, "value": b})


def _diff_list(a: list[Any], b: list[Any], path: str, ops: list[Op]) -> None:
    n, m = len(a), len(b)
    for k in range(min(n - 1, SLIDE) + 1):  # k gone from the start, the rest added at the end
        kept = n - k
        if kept <= m and m - kept <= SLIDE and _same_items(a, k, b, 0, kept):
            ops.extend({"op": "remove", "path": path + "/0"} for _ in range(k))
            ops.extend({"op": "add", "path": path + "/-", "value": v} for v in b[kept:])
            return
    for k in range(1, min(n - 1, SLIDE) + 1):  # k gone from the end, the rest added at the start
        kept = n - k
        added = m - kept
        if 0 <= added <= SLIDE and _same_items(a, 0, b, added, kept):
            ops.extend({"op": "remove", "path": f"{path}/{i}"} for i in range(n - 1, kept - 1, -1))
            ops.extend({"op": "add", "path": f"{path}/{i}", "value": b[i]} for i in range(added))
            return
    if n == m:
        for i in range(n):
            _diff(a[i], b[i], f"{path}/{i}", ops)
    else:
        ops.append({"op": "replace", "path": path, "value": b})


def _same_items(a: list[Any], i: int, b: list[Any], j: int, count: int) -> bool:
    return a[i:i + count] == b[j:j + count]

