"""The JSON Schema of analysis.json, derived from the document's types (results/document.py), never typed by hand.

The package ships it as `analysis.schema.json` beside this module, for anyone reading the documents with
other tools. It follows the codec's reading of the types (results/codec.py): a dataclass is an object whose
fields are its keys (a field with a default may be absent: older 1.x documents lack it), `tuple[X, ...]` an
array, `tuple[X, Y]` an array of exactly those, `dict[str, X]` an object of X, `X | None` X or null. A
field's description is its class docstring or the comment on its line. One command regenerates it:

    python -m balance.results.schema           # rewrite the shipped file
    python -m balance.results.schema --check   # exit 1 if the shipped file is not what the types give
"""

from __future__ import annotations

import dataclasses
import inspect
import io
import json
import re
import sys
import tokenize
import types
import typing
from pathlib import Path
from typing import Any

from balance.files import write_atomic
from balance.results.document import SCHEMA_VERSION, Document

SCHEMA_FILE = Path(__file__).with_name("analysis.schema.json")
DIALECT = "https://json-schema.org/draft/2020-12/schema"
_SCALARS: dict[Any, dict[str, Any]] = {
    float: {"type": "number"},
    int: {"type": "integer"},
    bool: {"type": "boolean"},
    str: {"type": "string"},
    Any: {},
}


def json_schema() -> dict[str, Any]:
    """The schema of the documents this version writes: one definition per dataclass, under `$defs`."""
    defs: dict[str, Any] = {}
    root = _record(Document, defs)
    return {
        "$schema": DIALECT,
        "title": f"balance analysis.json, schema {SCHEMA_VERSION}",
        "description": "One clip's analysis as `balance analyze` writes it (analysis.json, `--json`): every "
        "number with its unit and convention. Generated from balance/results/document.py.",
        **root,
        "$defs": {name: defs[name] for name in sorted(defs)},
    }


def shipped_schema() -> dict[str, Any]:
    """The schema file the package carries."""
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def _schema(kind: Any, defs: dict[str, Any]) -> dict[str, Any]:
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        name = kind.__name__
        if name not in defs:
            defs[name] = {"$comment": f"{kind.__module__}.{kind.__qualname__}"}  # claimed before its fields
            defs[name] |= _record(kind, defs)
        elif defs[name]["$comment"] != f"{kind.__module__}.{kind.__qualname__}":
            raise TypeError(f"two document types named {name}: {defs[name]['$comment']} and {kind.__module__}")
        return {"$ref": f"#/$defs/{name}"}
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):
        options = [_schema(a, defs) for a in args if a is not type(None)]
        if type(None) in args:
            options.append({"type": "null"})
        return options[0] if len(options) == 1 else {"anyOf": options}
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": _schema(args[0], defs)}
        items = [_schema(a, defs) for a in args]
        return {"type": "array", "prefixItems": items, "items": False, "minItems": len(items)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema(args[1], defs)}
    if origin is typing.Literal:
        return {"enum": list(args)}
    if kind in _SCALARS:
        return dict(_SCALARS[kind])
    raise TypeError(f"no JSON Schema for {kind!r}: the codec (results/codec.py) cannot read it either")


def _record(kind: type, defs: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(kind)
    notes = _field_comments(kind)
    properties = {}
    for f in dataclasses.fields(kind):
        prop = _schema(hints[f.name], defs)
        # Draft 2020-12 reads keywords beside a $ref, so a described reference stays one object.
        properties[f.name] = {"description": notes[f.name], **prop} if f.name in notes else prop
    out: dict[str, Any] = {}
    if doc := _docstring(kind):
        out["description"] = doc
    out |= {
        "type": "object",
        "properties": properties,
        "required": [f.name for f in dataclasses.fields(kind) if _required(f)],
        # The document is built strictly (a key without a field is an error), so nothing else appears.
        "additionalProperties": False,
    }
    return out


def _required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _docstring(kind: type) -> str | None:
    doc = kind.__doc__
    # dataclass() writes "Name(field: type, ...)" where a class has no docstring: that says nothing new.
    if not doc or doc.startswith(f"{kind.__name__}("):
        return None
    return " ".join(inspect.cleandoc(doc).split())


def _field_comments(kind: type) -> dict[str, str]:
    """The comment at the end of each field's line in the class's source (`name: type  # comment`)."""
    try:
        source = inspect.getsource(kind)
    except (OSError, TypeError):
        return {}
    lines = source.splitlines()
    notes = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT:
            continue
        line = lines[token.start[0] - 1]
        if match := re.match(r"\s+(\w+)\s*:", line):
            notes[match.group(1)] = token.string.lstrip("#").strip()
    names = {f.name for f in dataclasses.fields(kind)}
    return {k: v for k, v in notes.items() if k in names}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = schema_text()
    if args == ["--check"]:
        if SCHEMA_FILE.is_file() and SCHEMA_FILE.read_text(encoding="utf-8") == text:
            return 0
        print(f"{SCHEMA_FILE} is out of date: run python -m balance.results.schema", file=sys.stderr)
        return 1
    if args:
        print("usage: python -m balance.results.schema [--check]", file=sys.stderr)
        return 2
    write_atomic(SCHEMA_FILE, text)
    print(f"wrote {SCHEMA_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
