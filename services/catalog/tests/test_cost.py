"""The cost per participant: per-hour rate rounded half up to cents first, then times hours, in Decimal."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from catalog.domain import programmes
from prasmes_runtime.errors import InvalidInput

ICT = "Datorsistēmas, datubāzes un datortīkli"


def test_the_seed_example_costs_320_eur() -> None:
    assert programmes.per_hour_rate(Decimal("1.56"), Decimal("1.28")) == Decimal("2.00")
    assert programmes.cost_per_participant(Decimal("1.56"), Decimal("1.28"), 160) == Decimal("320.00")


def test_the_rate_is_rounded_before_multiplying_not_after() -> None:
    # 1.56 x 1.28 x 160 = 319.488: rounding only at the end would give 319.49.
    assert programmes.cost_per_participant(Decimal("1.56"), Decimal("1.28"), 160) != Decimal("319.49")


@pytest.mark.parametrize(
    ("rate", "coefficient", "hours", "per_hour", "cost"),
    [
        ("1.30", "1.25", 100, "1.63", "163.00"),  # 1.625: half up, not half even (1.62)
        ("1.56", "1.00", 1, "1.56", "1.56"),
        ("1.56", "1.005", 40, "1.57", "62.80"),  # 1.5678 -> 1.57
        ("1.56", "1.3", 7, "2.03", "14.21"),  # 2.028 -> 2.03
        ("1.56", "1.2", 120, "1.87", "224.40"),  # 1.872 -> 1.87
        ("0.01", "0.5", 3, "0.01", "0.03"),  # 0.005 -> 0.01
    ],
)
def test_rounding_edge_cases(rate: str, coefficient: str, hours: int, per_hour: str, cost: str) -> None:
    assert programmes.per_hour_rate(Decimal(rate), Decimal(coefficient)) == Decimal(per_hour)
    result = programmes.cost_per_participant(Decimal(rate), Decimal(coefficient), hours)
    assert result == Decimal(cost)
    assert result.as_tuple().exponent == -2  # always cents


def _table(**coefficients: str) -> programmes.CoefficientTable:
    values = {ICT: Decimal("1.28")} | {k: Decimal(v) for k, v in coefficients.items()}
    return programmes.CoefficientTable(3, Decimal("1.56"), values, date(2025, 1, 1), datetime(2025, 1, 1, tzinfo=UTC))


def test_compute_cost_records_the_table_version_and_its_inputs() -> None:
    cost = programmes.compute_cost(_table(), ICT, 160)
    assert (cost.per_participant, cost.per_hour, cost.coefficient, cost.table_version) == (
        Decimal("320.00"),
        Decimal("2.00"),
        Decimal("1.28"),
        3,
    )


def test_a_group_missing_from_the_table_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        programmes.compute_cost(_table(), "Nav tādas grupas", 160)
    assert (caught.value.violations[0].field, caught.value.violations[0].rule) == (
        "programme_group",
        "in_coefficient_table",
    )


TODAY = date(2026, 1, 1)


def _new_table(rate: object, coefficients: object, valid_from: object = "2026-01-01") -> programmes.CoefficientTable:
    form = programmes.CoefficientTableForm(rate, coefficients, valid_from)
    return programmes.new_coefficient_table(2, form, TODAY, datetime(2026, 1, 1, tzinfo=UTC), "martins")


@pytest.mark.parametrize(
    ("rate", "coefficients", "field", "rule"),
    [
        ("0", {ICT: "1.28"}, "hourly_rate", "positive"),
        ("1.567", {ICT: "1.28"}, "hourly_rate", "decimal_places"),
        ("1,56", {ICT: "1.28"}, "hourly_rate", "number"),
        (True, {ICT: "1.28"}, "hourly_rate", "number"),
        ("NaN", {ICT: "1.28"}, "hourly_rate", "positive"),
        ("1e30", {ICT: "1.28"}, "hourly_rate", "max"),
        ("1.56", {ICT: "1E+999999"}, f"coefficients.{ICT}", "max"),
        (None, {ICT: "1.28"}, "hourly_rate", "required"),
        ("1.56", {ICT: "-1"}, f"coefficients.{ICT}", "positive"),
        ("1.56", {ICT: "1.12345"}, f"coefficients.{ICT}", "decimal_places"),
        ("1.56", {}, "coefficients", "required"),
        ("1.56", {" ": "1.1"}, "coefficients", "required"),
        ("1.56", ["1.1"], "coefficients", "object"),
    ],
)
def test_a_new_table_is_validated(rate: object, coefficients: object, field: str, rule: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        _new_table(rate, coefficients)
    assert (field, rule) in {(v.field, v.rule) for v in caught.value.violations}


def test_every_problem_of_a_table_is_named_at_once() -> None:
    with pytest.raises(InvalidInput) as caught:
        _new_table("-1", {ICT: "x", "Biroja darbs": "0"}, "2025-12-31")
    assert {(v.field, v.rule) for v in caught.value.violations} == {
        ("hourly_rate", "positive"),
        (f"coefficients.{ICT}", "number"),
        ("coefficients.Biroja darbs", "positive"),
        ("valid_from", "not_in_past"),
    }


def test_a_table_from_json_numbers_and_strings() -> None:
    table = _new_table(1.56, {ICT: 1.28, "Biroja darbs": "1.1"}, "2026-02-01")
    assert (table.hourly_rate, table.coefficients, table.valid_from) == (
        Decimal("1.56"),
        {ICT: Decimal("1.28"), "Biroja darbs": Decimal("1.1")},
        date(2026, 2, 1),
    )
