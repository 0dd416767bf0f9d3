"""The dashboard as a table (one figure per row) for CSV and XLSX."""

from __future__ import annotations

from decimal import Decimal

from prasmes_statistics.domain.figures import BY_CODE, Dashboard

COLUMNS = ["as_of", "scope", "project_code", "call_or_round", "figure", "unit", "value", "label_lv", "label_en"]
Row = list[str | int | Decimal | None]


def _row(found: Dashboard, scope: str, project: str, place: str, figure: str, value: int | Decimal | None) -> Row:
    definition = BY_CODE.get(figure)
    unit = definition.unit.value if definition else ""
    labels = definition.label if definition else {}
    return [found.as_of.isoformat(), scope, project, place, figure, unit, value, labels.get("lv"), labels.get("en")]


def rows(found: Dashboard) -> list[Row]:
    table = [
        _row(found, "platform", "", "", "accounts_opened", found.accounts_opened),
        _row(found, "platform", "", "", "applicants", found.applications_total),
    ]
    for project in found.projects:
        for figure, value in project.figures.items():
            table.append(_row(found, "project", project.project_code, "", figure, value))
        for round_code, figures in sorted(project.rounds.items()):
            for figure, value in figures.items():
                table.append(_row(found, "round", project.project_code, round_code, figure, value))
    for call in found.calls:
        for figure, value in call.figures.items():
            table.append(_row(found, "call", call.project_code, call.code, figure, value))
    for scope, surveys in [("", found.surveys), *found.surveys_by_project.items()]:
        label = "surveys" if not scope else "project_surveys"
        table += [_row(found, label, scope, kind, "answers", n) for kind, n in surveys.answers.items()]
        table += [_row(found, label, scope, kind, "response_rate", r) for kind, r in surveys.response_rate.items()]
        table += [_row(found, label, scope, aspect, "mean_rating", m) for aspect, m in surveys.mean_rating.items()]
    return table
