"""Snapshot patches (runtime/patch.py): applying diff(a, b) to a gives b, for any JSON; a change of
one failure is a few operations, whatever the session holds."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from overlay.runtime.patch import diff

from .jsonpatch import apply

# A snapshot's fields keep their JSON type: a value is a number or true/false, never one then the
# other, so the values here are drawn from one of the two families at a time.
numbers = st.none() | st.integers(-3, 3) | st.floats(-2, 2, allow_nan=False) | st.text(max_size=3)
flags = st.none() | st.booleans() | st.text(max_size=3)


def values(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=12)
        | st.dictionaries(st.sampled_from(["a", "b", "c/d", "e~f", ""]), inner, max_size=4),
        max_leaves=40,
    )


def as_js(value: Any) -> str:
    """The value as JavaScript holds it: 1 and 1.0 are one number, true is not 1."""
    def norm(v: Any) -> Any:
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, list):
            return [norm(x) for x in v]
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items()}
        return v

    return json.dumps(norm(value), sort_keys=True)


@given(st.sampled_from([numbers, flags]).flatmap(lambda s: st.tuples(values(s), values(s))))
def test_applying_the_patch_gives_the_new_value(pair: tuple[Any, Any]) -> None:
    a, b = pair
    assert as_js(apply(a, diff(a, b))) == as_js(b)


def test_a_value_that_changes_type_is_replaced() -> None:
    assert diff({"a": "1"}, {"a": 1}) == [{"op": "replace", "path": "/a", "value": 1}]
    assert diff({"a": [0]}, {"a": [None]}) == [{"op": "replace", "path": "/a/0", "value": None}]
    assert diff({"a": {"b": 1}}, {"a": [1]}) == [{"op": "replace", "path": "/a", "value": [1]}]


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
