"""Snapshot patches (runtime/patch.py): applying diff(a, b) to a gives b, for any JSON; a change of
one failure is a few operations, whatever the session holds."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from overlay.runtime.patch import apply, diff

scalars = (st.none() | st.booleans() | st.integers(-3, 3) | st.floats(-2, 2, allow_nan=False)
           | st.text(max_size=3))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=12)
    | st.dictionaries(st.sampled_from(["a", "b", "c/d", "e~f", ""]), inner, max_size=4),
    max_leaves=40,
)


@given(json_values, json_values)
def test_applying_the_patch_gives_the_new_value(a: Any, b: Any) -> None:
    patched = apply(a, diff(a, b))
    assert patched == b
    assert json.dumps(patched, sort_keys=True) == json.dumps(b, sort_keys=True)  # 1, 1.0, true apart


@given(st.lists(st.integers(0, 5), max_size=30), st.integers(0, 10), st.integers(0, 10))
def test_a_slid_list_is_told_in_as_many_operations_as_items_moved(items: list[int], gone: int,
                                                                  added: int) -> None:
    gone = min(gone, len(items))
    new = items[gone:] + list(range(100, 100 + added))
    ops = diff({"log": items}, {"log": new})
    assert apply({"log": items}, ops) == {"log": new}
    if gone <= 8 and added <= 8:
        assert len(ops) <= gone + added


def test_a_failure_logged_late_in_a_long_session_is_a_small_patch() -> None:
    def snap(count: int) -> dict[str, Any]:
        notes = [{"at": f"t{i}", "note": "x" * 280} for i in range(count)][-100:]
        return {"rev": count, "failures": {"session": count, "log": notes}, "steps": [{"elapsed_s": 1.0}] * 6}

    for count in (30, 2030):
        ops = diff(snap(count), snap(count + 1))
        size = len(json.dumps(ops))
        assert size < 600, (count, size)
        assert apply(snap(count), ops) == snap(count + 1)
