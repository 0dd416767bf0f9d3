"""Rows of a table as the files the agency opens in a spreadsheet program: CSV (UTF-8 with a BOM, so that
spreadsheet programs read it as UTF-8) and XLSX (one sheet).

A cell is a text, a number (int, float, Decimal) or None (an empty cell); anything else is written as its str().
A number stays a number in XLSX and is written with str() in CSV. A text that starts like a formula ("=", "+",
"-", "@", a tab or a carriage return) gets a leading apostrophe, so that a spreadsheet shows it rather than runs
it (CSV/formula injection); numbers are never formulas and are written as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Literal

from fastapi import Response
from prasmes_runtime.http import attachment

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""How a text that a spreadsheet would run as a formula starts."""

Cell = str | int | float | Decimal | None
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def as_csv(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A header of `columns`, then one line per row; UTF-8 with a BOM."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_text(c) for c in columns])
    writer.writerows([_csv_cell(v) for v in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def as_xlsx(columns: Sequence[str], rows: Iterable[Sequence[object]], *, sheet: str) -> bytes:
    """A workbook of one sheet titled `sheet`: a header of `columns`, then one row per row."""
    from openpyxl import Workbook  # a quarter of a second at every process's start, for an export now and then

    book = Workbook()
    table = book.active
    assert table is not None
    table.title = sheet
    table.append([_text(c) for c in columns])
    for row in rows:
        table.append([_xlsx_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text(value: object) -> str:
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    return str(value) if _is_number(value) else _text(value)


def _xlsx_cell(value: object) -> Cell:
    if value is None or (isinstance(value, int | float | Decimal) and not isinstance(value, bool)):
        return value
    return _text(value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def table_response(
    name: str, columns: Sequence[str], rows: Sequence[Sequence[object]], fmt: Literal["csv", "xlsx"]
) -> Response:
    """An export's answer: the table as `<name>.csv` or `<name>.xlsx` (its sheet titled `name`, cut to the 31
    characters a sheet's title may have), to download."""
    headers = {"Content-Disposition": attachment(f"{name}.{fmt}")}
    if fmt == "csv":
        return Response(as_csv(columns, rows), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(as_xlsx(columns, rows, sheet=name[:31]), media_type=XLSX, headers=headers)
