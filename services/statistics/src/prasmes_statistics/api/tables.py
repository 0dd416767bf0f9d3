"""A table as the CSV or XLSX file an export answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from fastapi import Response
from prasmes_documents.tables import as_csv, as_xlsx
from prasmes_runtime.http import attachment

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table_response(
    name: str, columns: Sequence[str], rows: Sequence[Sequence[object]], fmt: Literal["csv", "xlsx"]
) -> Response:
    headers = {"Content-Disposition": attachment(f"{name}.{fmt}")}
    if fmt == "csv":
        return Response(as_csv(columns, rows), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(as_xlsx(columns, rows, sheet=name[:31]), media_type=XLSX, headers=headers)
