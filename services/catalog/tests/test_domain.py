"""The catalog's rules without I/O: programme forms against the register, search text, ratings, rates, groups."""

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from catalog.adapters.registers import FileRegisters
from catalog.domain import catalogue, common, groups, programmes, providers
from catalog.domain.programmes import ProgrammeForm, ProgrammeInput, ProgrammeType
from catalog.domain.providers import RegisteredInstitution
from prasmes_runtime.errors import InvalidInput
from prasmes_testing import samples

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ICT = "Datorsistēmas, datubāzes un datortīkli"
TABLE = programmes.CoefficientTable(1, Decimal("1.56"), {ICT: Decimal("1.28")}, date(2024, 1, 1), NOW)
LOCATION = uuid.uuid4()


def _registered(number: str) -> RegisteredInstitution:
    found = asyncio.run(FileRegisters().institution(number))
    assert found is not None
    return found


GOOD = _registered("3360800001")


def _spec(**changes: object) -> ProgrammeInput:
    raw = samples.programme_payload([str(LOCATION)], str(uuid.uuid4()))
    spec = ProgrammeInput(
        title=raw["title"],  # type: ignore[arg-type]
        licence_number="P-1234",
        licence_date=date(2023, 5, 10),
        thematic_area="IKT",
        programme_group=ICT,
        programme_type=ProgrammeType.PROFESSIONAL_DEVELOPMENT,
        form=ProgrammeForm.IN_PERSON,
        digcomp_level=5,
        total_hours=160,
        theory_hours=64,
        practice_hours=96,
        digital_share_percent=Decimal(80),
        qualifications=("programmesanas_tehnikis",),
        professional_competences=("Analizē datus",),
        learning_outcomes=("Spēj vizualizēt datus",),
        description=str(raw["description"]),
        language="lv",
        entry_level=3,
        prior_knowledge="Izklājlapas",
        equipment="Dators ar Windows",
        operating_systems=(programmes.OperatingSystem.WINDOWS,),
        location_ids=(LOCATION,),
        curriculum_document_id=uuid.uuid4(),
    )
    return replace(spec, **changes)  # type: ignore[arg-type]


def _violations(spec: ProgrammeInput, registered: RegisteredInstitution = GOOD) -> set[tuple[str, str]]:
    try:
        programmes.register_programme(
            uuid.uuid4(), spec, registered.licence(spec.licence_number), TABLE, [LOCATION], "liga", NOW
        )
    except InvalidInput as exc:
        return {(v.field, v.rule) for v in exc.violations}
    return set()


def test_a_good_programme_is_a_costed_draft() -> None:
    programme = programmes.register_programme(
        uuid.uuid4(), _spec(), GOOD.licence("P-1234"), TABLE, [LOCATION], "l", NOW
    )
    assert programme.status == programmes.ProgrammeStatus.DRAFT
    assert programme.cost.per_participant == Decimal("320.00")
    assert programme.cost.table_version == 1


@pytest.mark.parametrize(
    ("changes", "violation"),
    [
        ({"licence_number": "P-9999"}, ("licence_number", "registered")),
        ({"licence_date": date(2023, 5, 11)}, ("licence_date", "matches_register")),
        ({"total_hours": 150, "theory_hours": 54}, ("total_hours", "matches_licence")),
        ({"theory_hours": 60, "practice_hours": 100}, ("hours_split", "matches_licence")),
        ({"theory_hours": 60}, ("hours_split", "sums_to_total")),
        ({"digcomp_level": 9}, ("digcomp_level", "digcomp_range")),
        ({"digcomp_level": 0}, ("digcomp_level", "digcomp_range")),
        ({"entry_level": 9}, ("entry_level", "digcomp_range")),
        ({"entry_level": 6}, ("entry_level", "not_above_level")),
        ({"digital_share_percent": Decimal("100.5")}, ("digital_share_percent", "max_100")),
        ({"digital_share_percent": Decimal(-1)}, ("digital_share_percent", "min_0")),
        ({"programme_group": "Māksla"}, ("programme_group", "in_coefficient_table")),
        ({"qualifications": ("astronauts",)}, ("qualifications", "known")),
        ({"qualifications": ()}, ("qualifications", "required")),
        ({"operating_systems": ()}, ("operating_systems", "required")),
        ({"equipment": "  "}, ("equipment", "required")),
        ({"title": {"lv": "Datu analīze"}}, ("title.en", "required")),
        ({"language": "latvian"}, ("language", "format")),
        ({"location_ids": (uuid.uuid4(),)}, ("location_ids", "own_location")),
    ],
)
def test_each_rule_names_its_field(changes: dict[str, object], violation: tuple[str, str]) -> None:
    assert violation in _violations(_spec(**changes))


def test_all_mistakes_are_reported_at_once() -> None:
    found = _violations(_spec(digcomp_level=9, digital_share_percent=Decimal(120), theory_hours=1))
    assert {
        ("digcomp_level", "digcomp_range"),
        ("digital_share_percent", "max_100"),
        ("hours_split", "sums_to_total"),
    } <= found


def test_licence_data_that_differs_from_the_register_is_caught() -> None:
    # 3360800004's licence P-4004 is 120 h (48/72); the form says 160 h (64/96).
    other = _registered("3360800004")
    found = _violations(_spec(licence_number="P-4004", licence_date=date(2020, 11, 2)), other)
    assert {("total_hours", "matches_licence"), ("hours_split", "matches_licence")} <= found


def test_search_key_ignores_diacritics_and_case() -> None:
    assert common.search_key("Datu analīze ĢĶĻŅ čšž") == "datu analize gkln csz"
    assert common.search_words("  DATU   analize!  ") == ["datu", "analize"]


def test_viis_addresses_match_without_diacritics_or_punctuation() -> None:
    assert providers.match_viis_address("address", "brivibas iela 100 riga lv-1001", GOOD)[1] == "Rīga"
    with pytest.raises(InvalidInput) as caught:
        providers.match_viis_address("address", "Tērbatas iela 1, Rīga", GOOD)
    violation = caught.value.violations[0]
    assert (violation.field, violation.rule) == ("address", "registered_in_viis")
    assert "Tērbatas iela 1, Rīga" in violation.message


@pytest.mark.parametrize(
    ("changes", "violation"),
    [
        ({"register_number": "12345"}, ("register_number", "format")),
        ({"register_number": "9999999999"}, ("register_number", "registered")),
        ({"name": "Cita iestāde"}, ("name", "matches_register")),
        ({"admin_email": "liga.example.lv"}, ("admin.email", "format")),
        ({"admin_name": ""}, ("admin.name", "required")),
    ],
)
def test_registration_rules(changes: dict[str, str], violation: tuple[str, str]) -> None:
    values = {
        "name": "rigas datorikas macibu centrs",
        "register_number": "3360800001",
        "legal_address": "Brīvības iela 100, Rīga",
        "admin_name": "Līga Ozola",
        "admin_email": "liga@example.lv",
    } | changes
    registered = asyncio.run(FileRegisters().institution(values["register_number"]))
    with pytest.raises(InvalidInput) as caught:
        providers.validate_registration(**values, registered=registered)
    assert violation in {(v.field, v.rule) for v in caught.value.violations}


@pytest.mark.parametrize(
    ("number", "failing"),
    [
        ("3360800001", set()),
        ("3360800002", {"registered_three_years", "vocational_programme_three_years"}),
        ("3360800003", {"accredited", "vocational_programme_three_years"}),
    ],
)
def test_register_checks_for_calls(number: str, failing: set[str]) -> None:
    checks = providers.eligibility_checks(_registered(number), date(2026, 3, 2))
    assert {c.rule for c in checks if not c.passed} == failing


def test_a_rating_is_shown_only_from_ten_raters_and_the_count_always() -> None:
    averages = {a: Decimal("4.44") for a in catalogue.RATING_ASPECTS}
    nine = catalogue.public_rating(catalogue.RatingSummary(uuid.uuid4(), 9, averages))
    assert (nine.shown, nine.raters, nine.averages, nine.overall) == (False, 9, None, None)
    ten = catalogue.public_rating(catalogue.RatingSummary(uuid.uuid4(), 10, averages))
    assert ten.shown and ten.raters == 10
    assert ten.averages == {a: Decimal("4.4") for a in catalogue.RATING_ASPECTS}
    assert ten.overall == Decimal("4.4")
    nobody = catalogue.public_rating(None)
    assert (nobody.shown, nobody.raters) == (False, 0)


def test_rating_summaries_are_validated() -> None:
    with pytest.raises(InvalidInput):
        catalogue.validate_rating_summary(catalogue.RatingSummary(uuid.uuid4(), 12, {"teacher": Decimal("5.5")}))
    with pytest.raises(InvalidInput):
        catalogue.validate_rating_summary(catalogue.RatingSummary(uuid.uuid4(), 12, {"vibes": Decimal(4)}))


def test_completion_and_dropout_rates() -> None:
    counts = groups.OutcomeCounts(started=8, completed=5, discontinued=1)
    assert (counts.completion_rate, counts.dropout_rate) == (Decimal("62.5"), Decimal("12.5"))
    assert groups.OutcomeCounts(0, 0, 0).completion_rate is None


def _published() -> programmes.Programme:
    programme = programmes.register_programme(
        uuid.uuid4(), _spec(), GOOD.licence("P-1234"), TABLE, [LOCATION], "l", NOW
    )
    return replace(programme, status=programmes.ProgrammeStatus.PUBLISHED, publication_valid_until=date(2026, 4, 30))


@pytest.mark.parametrize(
    ("changes", "violation"),
    [
        ({"start_date": date(2026, 3, 1)}, ("start_date", "not_in_past")),
        ({"end_date": date(2026, 3, 9)}, ("end_date", "not_before_start")),
        ({"end_date": date(2026, 5, 15)}, ("end_date", "within_agreement")),
        ({"capacity": 0}, ("capacity", "range")),
        ({"entry_level": 10}, ("entry_level", "digcomp_range")),
        ({"location_id": uuid.uuid4()}, ("location_id", "programme_location")),
        ({"start_date": date(2028, 3, 3), "end_date": date(2028, 3, 10)}, ("start_date", "max_ahead")),
    ],
)
def test_group_rules(changes: dict[str, object], violation: tuple[str, str]) -> None:
    spec = groups.GroupInput(LOCATION, date(2026, 3, 10), date(2026, 4, 20), "Otrdienās 18-21", 20, "lv", 3)
    groups.validate_group(spec, _published(), date(2026, 3, 2))
    with pytest.raises(InvalidInput) as caught:
        groups.validate_group(replace(spec, **changes), _published(), date(2026, 3, 2))  # type: ignore[arg-type]
    assert violation in {(v.field, v.rule) for v in caught.value.violations}


def test_the_two_year_bound_counts_from_today_and_keeps_29_february() -> None:
    spec = groups.GroupInput(LOCATION, date(2028, 3, 1), date(2028, 3, 1), "Otrdienās", 5, "lv", 3)
    unbounded = replace(_published(), publication_valid_until=None)
    groups.validate_group(spec, unbounded, date(2026, 3, 1))
    groups.validate_group(
        replace(spec, start_date=date(2030, 2, 28), end_date=date(2030, 2, 28)), unbounded, date(2028, 2, 29)
    )
    with pytest.raises(InvalidInput) as caught:
        groups.validate_group(replace(spec, end_date=date(2028, 3, 2)), unbounded, date(2026, 3, 1))
    assert {(v.field, v.rule) for v in caught.value.violations} == {("end_date", "max_ahead")}


def test_capacity_cannot_drop_below_enrolled() -> None:
    spec = groups.GroupInput(LOCATION, date(2026, 3, 10), date(2026, 4, 20), "Otrdienās", 5, "lv", 3)
    with pytest.raises(InvalidInput) as caught:
        groups.validate_group(spec, _published(), date(2026, 3, 2), enrolled=6, new=False)
    assert caught.value.violations[0].rule == "not_below_enrolled"


def _draft() -> programmes.Programme:
    return programmes.register_programme(uuid.uuid4(), _spec(), GOOD.licence("P-1234"), TABLE, [LOCATION], "l", NOW)


def test_a_signed_agreement_publishes_a_draft_under_its_call() -> None:
    call = uuid.uuid4()
    published = _draft().signed_under(call, NOW, date(2026, 6, 30))
    assert (published.status, published.published_at, published.call_id) == (
        programmes.ProgrammeStatus.PUBLISHED,
        NOW,
        call,
    )
    assert published.publication_valid_until == date(2026, 6, 30)


def test_a_second_agreement_keeps_the_first_call_and_the_longest_end() -> None:
    first, second, later = uuid.uuid4(), uuid.uuid4(), datetime(2026, 4, 1, tzinfo=UTC)
    published = _draft().signed_under(first, NOW, date(2026, 6, 30))
    longer = published.signed_under(second, later, date(2026, 12, 31))
    assert (longer.published_at, longer.call_id, longer.publication_valid_until) == (NOW, first, date(2026, 12, 31))
    assert published.signed_under(second, later, date(2026, 4, 30)) == published


def test_an_ended_agreement_withdraws_unless_another_still_covers() -> None:
    published = _draft().signed_under(uuid.uuid4(), NOW, date(2026, 6, 30))
    other = programmes.Agreement(
        uuid.uuid4(), uuid.uuid4(), published.institution_id, programmes.AgreementStatus.SIGNED, date(2026, 9, 30)
    )
    kept = published.agreement_ended(other)
    assert (kept.status, kept.call_id, kept.publication_valid_until) == (
        programmes.ProgrammeStatus.PUBLISHED,
        other.call_id,
        date(2026, 9, 30),
    )
    withdrawn = published.agreement_ended(None)
    assert (withdrawn.status, withdrawn.published_at, withdrawn.call_id) == (
        programmes.ProgrammeStatus.WITHDRAWN,
        None,
        None,
    )
    draft = _draft()
    assert draft.agreement_ended(None) == draft
