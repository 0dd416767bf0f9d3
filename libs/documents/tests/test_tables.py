"""The shared tabular export: what a spreadsheet program reads from the CSV and the XLSX."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import load_workbook
from prasmes_documents import tables

COLUMNS = ("name", "count", "share", "note")
ROWS = [
    ("Rīgas Tehniskā universitāte", 12, Decimal("4.5"), None),
    ("=cmd|' /C calc'!A0", -3, 0.25, "+1"),
    ("@SUM(A1)", 0, Decimal(0), "-x"),
]


def _csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _xlsx(data: bytes) -> tuple[str, list[list[object]]]:
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    return sheet.title, [list(r) for r in sheet.iter_rows(values_only=True)]


def test_the_csv_is_utf8_with_a_bom_and_a_header() -> None:
    data = tables.as_csv(COLUMNS, ROWS)
    assert data.startswith(b"\xef\xbb\xbf")
    read = _csv(data)
    assert read[0] == list(COLUMNS)
    assert read[1] == ["Rīgas Tehniskā universitāte", "12", "4.5", ""]


def test_a_text_that_starts_like_a_formula_is_not_one_but_a_number_is_written_as_it_is() -> None:
    read = _csv(tables.as_csv(COLUMNS, ROWS))
    assert read[2] == ["'=cmd|' /C calc'!A0", "-3", "0.25", "'+1"]
    assert read[3] == ["'@SUM(A1)", "0", "0", "'-x"]
    _, values = _xlsx(tables.as_xlsx(COLUMNS, ROWS, sheet="t"))
    assert values[2][0] == "'=cmd|' /C calc'!A0" and values[2][3] == "'+1"
    assert values[3][0] == "'@SUM(A1)" and values[3][3] == "'-x"


def test_the_xlsx_keeps_numbers_as_numbers_none_as_an_empty_cell_and_names_its_sheet() -> None:
    title, values = _xlsx(tables.as_xlsx(COLUMNS, ROWS, sheet="decisions"))
    assert title == "decisions"
    assert values[0] == list(COLUMNS)
    assert values[1] == ["Rīgas Tehniskā universitāte", 12, 4.5, None]
    assert values[2][1:3] == [-3, 0.25]
    assert all(isinstance(v, int | float) and not isinstance(v, bool) for row in values[1:] for v in row[1:3])


def test_no_rows_give_the_header_alone_and_other_values_their_text() -> None:
    assert _csv(tables.as_csv(COLUMNS, [])) == [list(COLUMNS)]
    _, values = _xlsx(tables.as_xlsx(("flag",), [(True,)], sheet="s"))
    assert values == [["flag"], ["True"]]
