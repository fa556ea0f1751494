"""Stored records are plain frozen dataclasses; this converts them to and from item values.

Attribute names are camelCase in the table (case_id -> caseId), as in the API. Records come
from our own table, validated by the API models on the way in, so reading one back needs
type conversion, not validation. Event consumers load records on their cold start, where
pydantic's import and first schema build alone cost ~60 ms.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum
from functools import cache
from typing import Any, TypeVar

_R = TypeVar("_R")


def camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def to_values(record: Any) -> dict[str, Any]:
    """Item values of a record (enums as their values, nested records as maps)."""
    return {camel(f.name): _dump(getattr(record, f.name)) for f in dataclasses.fields(record)}


def from_values(cls: type[_R], values: typing.Mapping[str, Any]) -> _R:
    """A record from item values; attributes the record does not declare are ignored."""
    hints = _hints(cls)  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        key = camel(f.name)
        if key in values:
            kwargs[f.name] = _load(hints[f.name], values[key])
        elif _optional(hints[f.name]):
            kwargs[f.name] = None  # items leave None attributes out (dynamo.to_item)
    return cls(**kwargs)


def field_names(cls: type) -> frozenset[str]:
    """The item attribute names a record declares."""
    return frozenset(camel(f.name) for f in dataclasses.fields(cls))


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _optional(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in typing.get_args(hint)


def _dump(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_values(value)
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    return value


def _load(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        [inner] = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _load(inner, value)
    if origin in (list, tuple):
        item_hint = typing.get_args(hint)[0]
        items = [_load(item_hint, v) for v in value]
        return items if origin is list else tuple(items)
    if isinstance(hint, type):
        if issubclass(hint, Enum):
            return hint(value)
        if dataclasses.is_dataclass(hint):
            return from_values(hint, value)
        if hint in (int, str, bool):
            return hint(value)
    return value
