"""Frozen dataclasses to and from JSON values, checked against their type hints, with the path of what is wrong.

One generic codec, so the results document's types are its schema: a field is its JSON key, `tuple[X, ...]`
or `tuple[X, Y]` a JSON list, `dict[str, X]` a JSON object, `X | None` allows null; field order is key order.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from collections.abc import Mapping
from typing import Any


class SchemaError(ValueError):
    """A JSON value that does not fit the type: `where` names it (e.g. "trials[0].metrics")."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


def to_plain(value: Any) -> Any:
    """A dataclass (recursively) as JSON-ready dicts, lists and scalars."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: to_plain(v) for k, v in value.items()}
    return value


def from_plain(kind: Any, value: Any, where: str, *, strict: bool = False) -> Any:
    """`value` (parsed JSON) as `kind`; raises SchemaError at the first misfit.

    strict: a key the dataclass has no field for is an error (building a document: every field the analysis
    emits must be in the schema); else it is ignored (loading: a later minor version may add fields).
    """
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return _record(kind, value, where, strict)
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        problems = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return from_plain(arg, value, where, strict=strict)
            except SchemaError as exc:
                problems.append(exc)
        raise problems[0] if len(problems) == 1 else SchemaError(where, f"unexpected {_what(value)}")
    if origin is tuple:
        if not isinstance(value, list):
            raise SchemaError(where, f"expected a list, got {_what(value)}")
        if len(args) == 2 and args[1] is Ellipsis:
            kinds = [args[0]] * len(value)
        elif len(value) != len(args):
            raise SchemaError(where, f"expected {len(args)} values, got {len(value)}")
        else:
            kinds = list(args)
        return tuple(
            from_plain(k, v, f"{where}[{i}]", strict=strict) for i, (k, v) in enumerate(zip(kinds, value, strict=True))
        )
    if origin is dict:
        if not isinstance(value, dict):
            raise SchemaError(where, f"expected an object, got {_what(value)}")
        return {k: from_plain(args[1], v, f"{where}[{k!r}]", strict=strict) for k, v in value.items()}
    return _scalar(kind, value, where)


def _scalar(kind: Any, value: Any, where: str) -> Any:
    if kind is Any:
        return value
    if kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return value  # an int stays an int: the document is written back exactly as read
        raise SchemaError(where, f"expected a finite number, got {_what(value)}")
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise SchemaError(where, f"expected a whole number, got {_what(value)}")
    if kind in (bool, str):
        if isinstance(value, kind):
            return value
        raise SchemaError(where, f"expected {'true or false' if kind is bool else 'a string'}, got {_what(value)}")
    raise TypeError(f"no JSON codec for {kind!r}")


def _record(kind: type, value: Any, where: str, strict: bool) -> Any:
    if not isinstance(value, dict):
        raise SchemaError(where, f"expected an object, got {_what(value)}")
    hints = _hints(kind)
    names = [f.name for f in dataclasses.fields(kind)]
    if strict and (extra := [k for k in value if k not in hints]):
        raise SchemaError(where, f"{kind.__name__} has no field for {', '.join(map(repr, extra))}")
    values = {}
    optional = {f.name for f in dataclasses.fields(kind) if f.default is not dataclasses.MISSING}
    for name in names:
        at = f"{where}.{name}" if where else name
        if name not in value:
            if name in optional:  # added in a later 1.x version: an older document lacks it
                continue
            raise SchemaError(at, "missing")
        values[name] = from_plain(hints[name], value[name], at, strict=strict)
    try:
        return kind(**values)
    except ValueError as exc:  # the record's own check (__post_init__) of how its fields fit together
        raise SchemaError(where or kind.__name__, str(exc)) from exc


@functools.cache
def _hints(kind: type) -> dict[str, Any]:
    return typing.get_type_hints(kind)


def _what(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value[:20]!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
