"""Load YAML into plain Python while remembering the line of every key path."""

from __future__ import annotations

from typing import Any

import yaml

Path = tuple[str | int, ...]


class YamlSyntaxError(Exception):
    """The text is not valid YAML; the message carries the line."""


def load_with_lines(text: str) -> tuple[Any, dict[Path, int]]:
    """Parse YAML text; return the data and a map of key path -> 1-based line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise YamlSyntaxError(f"{where}{problem}") from None
    lines: dict[Path, int] = {}
    if node is None:
        return None, lines
    constructor = yaml.SafeLoader("")
    try:
        return _convert(node, (), lines, constructor), lines
    except RecursionError:
        raise YamlSyntaxError("nested too deeply (or an alias refers to itself)") from None


def _convert(
    node: yaml.Node, path: Path, lines: dict[Path, int], constructor: yaml.SafeLoader
) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _construct(key_node, constructor)
            if not isinstance(key, str | int):
                key = str(key)
            if key in out:
                raise YamlSyntaxError(
                    f"line {key_node.start_mark.line + 1}: key {key!r} appears twice"
                )
            child = (*path, key)
            out[key] = _convert(value_node, child, lines, constructor)
            lines[child] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(item, (*path, i), lines, constructor) for i, item in enumerate(node.value)
        ]
    return _construct(node, constructor)


def _construct(node: yaml.Node, constructor: yaml.SafeLoader) -> Any:
    """A scalar's value; a bad one (2027-02-30, !tag) is a YamlSyntaxError with its line."""
    try:
        return constructor.construct_object(node, deep=True)
    except ValueError:
        if node.tag == "tag:yaml.org,2002:timestamp":
            return node.value  # a date-shaped text that is no date: the key's check names it
        raise YamlSyntaxError(f"line {node.start_mark.line + 1}: cannot read {node.value!r}") from None
    except (yaml.YAMLError, TypeError) as exc:
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlSyntaxError(
            f"line {node.start_mark.line + 1}: cannot read {node.value!r}: {problem}"
        ) from None


def format_path(path: Path) -> str:
    """Render ('steps', 2, 'id') as steps[2].id."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"
