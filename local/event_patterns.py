"""The small subset of EventBridge Pipes semantics the outbox relay needs.

- `matches`: a filter pattern (EventBridge pattern syntax) against a stream record.
- `value_at`: a `$.a.b.c` JSON path (dot notation only, as the manifest uses).
- `render_template`: a Pipe input template, each `<$.path>` replaced by the value at that path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"<(\$(?:\.[^<>\s.]+)*)>")
_MISSING = object()


def value_at(path: str, document: Any) -> Any:
    """The value at `$.a.b` in document, or None when any step is missing."""
    if path != "$" and not path.startswith("$."):
        raise ValueError(f"Only '$.dotted.paths' are supported, got {path!r}")
    current = document
    for step in path[2:].split(".") if path != "$" else []:
        if isinstance(current, Mapping) and step in current:
            current = current[step]
        elif isinstance(current, list) and step.isdigit() and int(step) < len(current):
            current = current[int(step)]
        else:
            return None
    return current


def render_template(template: str, document: Any) -> str:
    """Renders a Pipe input template.

    Like Pipes, a string value is inserted as-is (JSON-escaped so the result stays valid JSON
    when the placeholder sits inside quotes); other values are inserted as JSON; a missing
    path renders as an empty string.
    """

    def replace(match: re.Match[str]) -> str:
        value = value_at(match.group(1), document)
        if value is None:
            return ""
        if isinstance(value, str):
            return json.dumps(value)[1:-1]
        return json.dumps(value, default=str)

    return _PLACEHOLDER.sub(replace, template)


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """EventBridge pattern matching: every key must match; a list means "any of these"."""
    if not isinstance(event, Mapping):
        return False
    for key, expected in pattern.items():
        actual = event.get(key, _MISSING)
        if isinstance(expected, Mapping):
            if actual is _MISSING or not matches(expected, actual):
                return False
        elif isinstance(expected, list):
            if not any(_matches_value(rule, actual) for rule in expected):
                return False
        else:
            raise ValueError(f"Pattern values must be objects or arrays, got {expected!r} at {key!r}")
    return True


def _matches_value(rule: Any, actual: Any) -> bool:
    if isinstance(rule, Mapping):
        return _matches_operator(rule, actual)
    if actual is _MISSING:
        return False
    if isinstance(actual, list):
        return rule in actual
    return bool(rule == actual)


def _matches_operator(rule: Mapping[str, Any], actual: Any) -> bool:
    if "exists" in rule:
        return (actual is not _MISSING) == bool(rule["exists"])
    if actual is _MISSING:
        return False
    if "prefix" in rule:
        return isinstance(actual, str) and actual.startswith(str(rule["prefix"]))
    if "anything-but" in rule:
        excluded = rule["anything-but"]
        return actual not in (excluded if isinstance(excluded, list) else [excluded])
    raise ValueError(f"Unsupported pattern operator {dict(rule)!r}")
