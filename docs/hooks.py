"""MkDocs hook: the JSON schema page shows the shipped schema file (src/balance/results/analysis.schema.json).

`{{ schema_fields }}` becomes a table of every field (its path, type, whether it is always present, and its
description), `{{ schema_file }}` the file itself; both are read from the file at build time, so the page
cannot drift from what the package ships (regenerate the file with `python -m balance.results.schema`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "src" / "balance" / "results" / "analysis.schema.json"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if "{{ schema_" not in markdown:
        return markdown
    text = SCHEMA_FILE.read_text(encoding="utf-8")
    schema = json.loads(text)
    rows = ["| field | type | always there | what it is |", "|---|---|---|---|"]
    rows += [f"| `{path}` | {kind} | {always} | {about} |" for path, kind, always, about in _fields(schema, schema, "")]
    return markdown.replace("{{ schema_fields }}", "\n".join(rows)).replace(
        "{{ schema_file }}", f"```json\n{text.rstrip()}\n```"
    )


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = {**root["$defs"][node["$ref"].rsplit("/", 1)[1]], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _kind(node: dict[str, Any], root: dict[str, Any]) -> str:
    node = _resolve(node, root)
    if "anyOf" in node:
        return " or ".join(_kind(n, root) for n in node["anyOf"])
    if "enum" in node:
        return " / ".join(json.dumps(v) for v in node["enum"])
    kind = node.get("type", "any")
    if kind == "array":
        if "prefixItems" in node:
            return f"[{', '.join(_kind(n, root) for n in node['prefixItems'])}]"
        return f"list of {_kind(node['items'], root)}"
    if kind == "object" and "properties" not in node and isinstance(node.get("additionalProperties"), dict):
        return f"object of {_kind(node['additionalProperties'], root)}"
    return str(kind)


def _children(node: dict[str, Any], root: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The object a field holds (itself, a list's items, a map's values, a nullable's object) and its path suffix."""
    node = _resolve(node, root)
    for option in node.get("anyOf", []):
        if (inner := _children(option, root)) is not None:
            return inner
    if node.get("type") == "array" and isinstance(node.get("items"), dict):
        inner = _children(node["items"], root)
        return None if inner is None else ("[]" + inner[0], inner[1])
    if node.get("type") == "object" and "properties" in node:
        return "", node
    if node.get("type") == "object" and isinstance(node.get("additionalProperties"), dict):
        inner = _children(node["additionalProperties"], root)
        return None if inner is None else (".<name>" + inner[0], inner[1])
    return None


def _fields(node: dict[str, Any], root: dict[str, Any], prefix: str) -> list[tuple[str, str, str, str]]:
    node = _resolve(node, root)
    out = []
    for name, prop in node.get("properties", {}).items():
        path = f"{prefix}.{name}" if prefix else name
        about = (prop.get("description") or _resolve(prop, root).get("description") or "").replace("|", "\\|")
        always = "yes" if name in node.get("required", []) else "no"
        out.append((path, _kind(prop, root).replace("|", "\\|"), always, about))
        if (inner := _children(prop, root)) is not None:
            out += _fields(inner[1], root, path + inner[0])
    return out
