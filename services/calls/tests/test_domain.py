"""The phase clock (to the minute, in Riga, across daylight-saving changes) and every rule of the checks, pure."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from calls.domain.calls import (
    INSTITUTION_RULES,
    PROGRAMME_RULES,
    Call,
    Criterion,
    check_criteria,
    check_timeline,
)
from calls.domain.checks import CheckInput, check_offer
from calls.domain.common import riga_minute
from calls.domain.institutions import (
    CoefficientTable,
    DeliveredProgramme,
    LicensedProgramme,
    Programme,
    RegisteredAddress,
    RegisteredInstitution,
    in_force,
)
from calls.domain.offers import Attachment, Location, OfferContent, OfferedProgramme, Provision, Terms
from calls.service.seed import SEED_FILE, _load, _timeline
from prasmes_runtime.errors import Conflict, InvalidInput

from .conftest import ICT, riga

IMK4 = _load(SEED_FILE)[0]
TIMELINE = _timeline(IMK4["timeline"])
TODAY = date(2025, 10, 1)


def _call(**changes: Any) -> Call:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "code": "IMK-4",
        "title": {"lv": "4"},
        "project_code": "IMK",
        "timeline": TIMELINE,
        "max_programmes_per_institution": 3,
        "institution_criteria": tuple(Criterion(**c) for c in IMK4["institution_criteria"]),
        "programme_criteria": tuple(Criterion(**c) for c in IMK4["programme_criteria"]),
        "learning_needs": (),
        "needs_approved_on": None,
        "phase": "announced",
        "created_at": riga(2025, 9, 1),
    }
    return Call(**values | changes)


# --------------------------------------------------------------------------- the phase clock


@pytest.mark.parametrize(
    ("at", "phase"),
    [
        (riga(2025, 9, 9, 23, 59, 59), "announced"),
        (riga(2025, 9, 10), "applications"),
        (riga(2025, 9, 21, 23, 59, 59), "applications"),
        (riga(2025, 9, 22), "offers"),
        (riga(2025, 10, 10, 23, 59, 59), "offers"),
        (riga(2025, 10, 11), "evaluation"),
        (riga(2025, 11, 7, 23, 0), "evaluation"),
        (riga(2025, 11, 10), "delivery"),  # decision, agreements and publication all from 10 Nov
        (riga(2026, 4, 30, 23, 59, 59), "delivery"),
        (riga(2026, 5, 1), "closed"),
    ],
)
def test_the_phase_follows_the_clock(at: datetime, phase: str) -> None:
    assert TIMELINE.phase_at(at) == phase


def test_the_offer_window_includes_the_whole_deadline_minute() -> None:
    assert TIMELINE.offers_deadline_at == datetime(2025, 10, 10, 20, 59, tzinfo=UTC)
    assert TIMELINE.offers_open(riga(2025, 10, 10, 23, 59, 59))
    assert TIMELINE.offers_open(riga(2025, 10, 10, 23, 59, 59) + timedelta(microseconds=999_999))
    assert not TIMELINE.offers_open(riga(2025, 10, 11, 0, 0, 0))
    assert not TIMELINE.offers_open(riga(2025, 9, 21, 23, 59, 59))
    assert TIMELINE.offers_open(riga(2025, 9, 22, 0, 0, 0))


@pytest.mark.parametrize(
    ("deadline_day", "offset_hours"),
    [(date(2025, 10, 26), 2), (date(2026, 3, 29), 3)],  # the day summer time ends (25 h) / begins (23 h)
)
def test_the_deadline_on_a_daylight_saving_change_day(deadline_day: date, offset_hours: int) -> None:
    deadline = riga_minute(datetime.combine(deadline_day, datetime.min.time()).replace(hour=23, minute=59), "d")
    assert deadline == datetime.combine(deadline_day, datetime.min.time(), UTC).replace(
        hour=23 - offset_hours, minute=59
    )
    timeline = replace(TIMELINE, offers_open_at=deadline - timedelta(days=10), offers_deadline_at=deadline)
    call = _call(timeline=timeline)
    last_second = riga(deadline_day.year, deadline_day.month, deadline_day.day, 23, 59, 59)
    next_day = deadline_day + timedelta(days=1)
    midnight = riga(next_day.year, next_day.month, next_day.day)
    call.require_offer_window(last_second, "submit an offer")
    with pytest.raises(Conflict) as refused:
        call.require_offer_window(midnight, "submit an offer")
    assert f"{deadline_day} 23:59 (Europe/Riga, UTC+0{offset_hours}:00)" in refused.value.message
    assert midnight - last_second == timedelta(seconds=1)


@pytest.mark.parametrize(
    ("local", "rule"),
    [
        (datetime(2026, 3, 29, 3, 30), "riga_time"),  # does not exist: clocks jump 03:00 -> 04:00
        (datetime(2025, 10, 26, 3, 30), "riga_time"),  # happens twice: clocks fall back 04:00 -> 03:00
        (datetime(2025, 10, 10, 23, 59, 30), "to_the_minute"),
    ],
)
def test_a_deadline_that_is_not_one_riga_minute_is_refused(local: datetime, rule: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        riga_minute(local, "timeline.offers_deadline_at")
    assert refused.value.violations[0].rule == rule


def test_every_phase_change_is_listed_even_on_one_day() -> None:
    call = _call(phase="evaluation")
    assert call.phases_passed(riga(2025, 11, 10, 0, 0, 1)) == [
        ("evaluation", "decision"),
        ("decision", "agreements"),
        ("agreements", "delivery"),
    ]
    assert _call(phase="closed").phases_passed(riga(2026, 6, 1)) == []


def test_a_timeline_out_of_order_names_each_field() -> None:
    wrong = replace(TIMELINE, offers_deadline_at=TIMELINE.offers_open_at, decision_on=date(2025, 11, 7))
    with pytest.raises(InvalidInput) as refused:
        check_timeline(wrong)
    assert {(v.field, v.rule) for v in refused.value.violations} == {
        ("timeline.offers_deadline_at", "order"),
        ("timeline.decision_on", "order"),
    }


def test_criteria_are_checked_as_rules() -> None:
    check_criteria(_call().institution_criteria, INSTITUTION_RULES, "institution_criteria")
    check_criteria(_call().programme_criteria, PROGRAMME_RULES, "programme_criteria")
    bad = (
        Criterion("I1", "no_such_rule"),
        Criterion("I2", "registered_years", {"years": "three"}),
        Criterion("I2", "registered_years", {"years": 3, "months": 2}),
        Criterion("I4", "delivered_programmes", {"count": 2}),
    )
    with pytest.raises(InvalidInput) as refused:
        check_criteria(bad, INSTITUTION_RULES, "institution_criteria")
    assert {(v.field, v.rule) for v in refused.value.violations} == {
        ("institution_criteria[0].rule", "one_of"),
        ("institution_criteria[1].params.years", "type"),
        ("institution_criteria[2].code", "unique"),
        ("institution_criteria[2].params.months", "extra_forbidden"),
        ("institution_criteria[3].params.min_digcomp", "required"),
        ("institution_criteria[3].params.min_completers", "required"),
    }


# --------------------------------------------------------------------------- the cost rule


def test_the_cost_rounds_the_hourly_rate_to_cents_first() -> None:
    table = CoefficientTable(1, Decimal("1.56"), {ICT: Decimal("1.28")}, date(2024, 1, 1))
    assert table.cost(ICT, 160) == Decimal("320.00")  # 1.9968 -> 2.00, not 1.9968 x 160 = 319.49
    assert table.cost("unknown", 160) is None
    later = CoefficientTable(2, Decimal("1.56"), {ICT: Decimal("1.30")}, date(2026, 1, 1))
    assert in_force([table, later], date(2025, 12, 31)) is table and in_force([table, later], date(2026, 1, 1)) is later


# --------------------------------------------------------------------------- the checks

PROGRAMME_ID = uuid.uuid4()
REGISTERED = RegisteredInstitution(
    register_number="3360800001",
    registration_date=date(2008, 3, 14),
    accredited=True,
    accreditation_valid_until=date(2030, 6, 30),
    licensed_programmes=(
        LicensedProgramme(
            "P-1234", date(2023, 5, 10), "Datu analīze ar Python", 160, 64, 96, True, "professional_development"
        ),
        LicensedProgramme("35b", date(2012, 8, 20), "Programmēšana", 1920, 800, 1120, True, "vocational"),
    ),
    addresses=(RegisteredAddress("VIIS-1", "Brīvības iela 100, Rīga, LV-1001", "Rīga"),),
)
PROGRAMME = Programme(
    PROGRAMME_ID,
    uuid.uuid4(),
    {"lv": "Datu analīze ar Python"},
    "P-1234",
    ICT,
    "in_person",
    5,
    160,
    Decimal("80"),
    ("programmesanas_tehnikis",),
    Decimal("320.00"),
    1,
)
OFFERED = OfferedProgramme(
    PROGRAMME_ID,
    64,
    96,
    Decimal("320.00"),
    Provision("Dators ar 8 GB RAM un tīmekļa kameru", ("windows",)),
    ("VIIS-1",),
)


def _attachment(kind: str, programme_id: uuid.UUID | None = None, **changes: Any) -> Attachment:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "offer_id": uuid.uuid4(),
        "kind": kind,
        "programme_id": programme_id,
        "filename": None,
        "media_type": "application/pdf",
        "format": "pades" if kind == "signed_statement" else "pdf",
        "size": 1,
        "sha256": "0" * 64,
        "signatures": 1 if kind == "signed_statement" else 0,
        "timestamps": 1 if kind == "signed_statement" else 0,
        "uploaded_at": riga(2025, 10, 1),
    }
    return Attachment(**values | changes)


ATTACHMENTS = (
    _attachment("application"),
    _attachment("experience"),
    _attachment("signed_statement"),
    _attachment("curriculum", PROGRAMME_ID),
)


def _input(**changes: Any) -> CheckInput:
    values: dict[str, Any] = {
        "call": _call(),
        "content": OfferContent(
            locations=(Location("Brīvības iela 100, Rīga, LV-1001", "RĪGA", "VIIS-1"),),
            programmes=(OFFERED,),
            terms=Terms("IMK", (PROGRAMME_ID,), ("data_true", "no_double_funding", "call_terms_accepted")),
        ),
        "attachments": ATTACHMENTS,
        "programmes": {PROGRAMME_ID: PROGRAMME},
        "registered": REGISTERED,
        "coefficients": CoefficientTable(1, Decimal("1.56"), {ICT: Decimal("1.28")}, date(2024, 1, 1)),
        "delivered": (DeliveredProgramme(uuid.uuid4(), 3, 10), DeliveredProgramme(uuid.uuid4(), 4, 12)),
        "today": TODAY,
    }
    return CheckInput(**values | changes)


def _with(content: OfferContent | None = None, **programme: Any) -> dict[str, Any]:
    base = _input().content if content is None else content
    return {"content": replace(base, programmes=(replace(OFFERED, **programme),))}


def test_a_good_offer_has_no_problem() -> None:
    assert check_offer(_input()) == []


BASE = _input().content
CASES: list[tuple[str, dict[str, Any], tuple[str, str, str]]] = [
    # the most common errors
    ("data entered wrongly", _with(theory_hours=60), ("programmes[0].theory_hours", "consistent", "programmes")),
    ("documents missing", {"attachments": ATTACHMENTS[1:]}, ("attachments.application", "document_required", "offer")),
    ("a field left empty", _with(practice_hours=None), ("programmes[0].practice_hours", "required", "programmes")),
    (
        "not as in VIIS",
        {"content": replace(BASE, locations=(Location("Cita iela 1", "Rīga", "VIIS-1"),))},
        ("locations[0].address", "matches_register", "locations"),
    ),
    (
        "description not as licensed",
        {"programmes": {PROGRAMME_ID: replace(PROGRAMME, title={"lv": "Python kursi"})}},
        ("programmes[0].title", "matches_licence", "programmes"),
    ),
    (
        "provision",
        _with(provision=Provision("dators", ("windows",))),
        ("programmes[0].provision.equipment", "provision", "programmes"),
    ),
    (
        "wrong coefficient",
        _with(cost_per_participant=Decimal("353.60")),
        ("programmes[0].cost_per_participant", "coefficient", "programmes"),
    ),
    (
        "hours split",
        _with(theory_hours=80, practice_hours=80),
        ("programmes[0].theory_hours", "hours_split", "programmes"),
    ),
    # the institution criteria
    (
        "not accredited",
        {"registered": replace(REGISTERED, accredited=False)},
        ("institution.accredited", "accredited", "offer"),
    ),
    (
        "registered < 3 years",
        {"registered": replace(REGISTERED, registration_date=date(2022, 10, 2))},
        ("institution.registered_years", "registered_years", "offer"),
    ),
    (
        "no vocational programme",
        {"registered": replace(REGISTERED, licensed_programmes=REGISTERED.licensed_programmes[:1])},
        ("institution.vocational_programme_years", "vocational_programme_years", "offer"),
    ),
    (
        "a group of 9 completers",
        {"delivered": (DeliveredProgramme(uuid.uuid4(), 3, 10), DeliveredProgramme(uuid.uuid4(), 4, 9))},
        ("institution.delivered_programmes", "delivered_programmes", "offer"),
    ),
    (
        "DigComp 2 in the history",
        {"delivered": (DeliveredProgramme(uuid.uuid4(), 2, 30), DeliveredProgramme(uuid.uuid4(), 4, 12))},
        ("institution.delivered_programmes", "delivered_programmes", "offer"),
    ),
    # the programme criteria
    (
        "remote",
        {"programmes": {PROGRAMME_ID: replace(PROGRAMME, form="remote")}},
        ("programmes[0].form", "form", "programmes"),
    ),
    (
        "DigComp 7",
        {"programmes": {PROGRAMME_ID: replace(PROGRAMME, digcomp_level=7)}},
        ("programmes[0].digcomp_level", "digcomp_range", "programmes"),
    ),
    (
        "69.99 % digital",
        {"programmes": {PROGRAMME_ID: replace(PROGRAMME, digital_share_percent=Decimal("69.99"))}},
        ("programmes[0].digital_share_percent", "digital_share", "programmes"),
    ),
    (
        "another qualification",
        {"programmes": {PROGRAMME_ID: replace(PROGRAMME, qualifications=("datu_analitikis",))}},
        ("programmes[0].qualifications", "qualifications", "programmes"),
    ),
    (
        "a vocational licence",
        {
            "registered": replace(
                REGISTERED,
                licensed_programmes=(
                    replace(REGISTERED.licensed_programmes[0], kind="vocational"),
                    REGISTERED.licensed_programmes[1],
                ),
            )
        },
        ("programmes[0].licence_number", "programme_kind", "programmes"),
    ),
    # step 3
    (
        "funding source",
        {"content": replace(BASE, terms=replace(BASE.terms, funding_source="VARAM"))},
        ("terms.funding_source", "consistent", "offer"),
    ),
    (
        "a statement",
        {"content": replace(BASE, terms=replace(BASE.terms, statements=("data_true",)))},
        ("terms.statements.no_double_funding", "confirmed", "offer"),
    ),
    (
        "no time stamp",
        {"attachments": (*ATTACHMENTS[:2], _attachment("signed_statement", timestamps=0), ATTACHMENTS[3])},
        ("attachments.signed_statement", "signature", "offer"),
    ),
    (
        "no curriculum",
        {"attachments": ATTACHMENTS[:3]},
        (f"attachments.curriculum.{PROGRAMME_ID}", "document_required", "offer"),
    ),
    ("unknown to the register", {"registered": None}, ("institution.register_number", "matches_register", "offer")),
]


@pytest.mark.parametrize(("case", "changes", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_rule_names_its_field_rule_and_step(
    case: str, changes: dict[str, Any], expected: tuple[str, str, str]
) -> None:
    found = {(p.field, p.rule, p.step) for p in check_offer(_input(**changes))}
    assert expected in found, found


def test_criteria_problems_name_their_source() -> None:
    remote = check_offer(_input(programmes={PROGRAMME_ID: replace(PROGRAMME, form="remote")}))
    assert [(p.rule, p.source) for p in remote] == [("form", "call IMK-4, criterion P3")]
    wrong_cost = check_offer(_input(**_with(cost_per_participant=Decimal("353.60"))))
    assert [p.source for p in wrong_cost] == ["Cabinet regulation No 655, annex 3 (minimum cost coefficients)"]


def test_four_programmes_are_one_too_many_and_every_problem_comes_at_once() -> None:
    ids = tuple(uuid.uuid4() for _ in range(4))
    programmes = tuple(replace(OFFERED, programme_id=i) for i in ids)
    content = replace(BASE, programmes=programmes, terms=replace(BASE.terms, programme_ids=ids, funding_source=None))
    found = check_offer(_input(content=content, programmes={i: replace(PROGRAMME, programme_id=i) for i in ids}))
    rules = {(p.field, p.rule) for p in found}
    assert ("terms.programme_ids", "max_programmes") in rules and ("terms.funding_source", "required") in rules
    assert len([p for p in found if p.rule == "document_required"]) == 4  # a curriculum per ticked programme
