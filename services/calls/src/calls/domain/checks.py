"""Every check an offer must pass before submission, run all at once: each problem names the field, the rule, where
the rule comes from (a criterion of the call, a regulation clause, or the call's submission rules) and the step of
the draft it belongs to.

The submission rules catch the most common errors of offers: data entered wrongly (`consistent`), mandatory
documents missing (`document_required`), fields left empty (`required`), data that does not match the public
registers, VIIS (`matches_register`), a description that does not match the licensed programme (`matches_licence`),
the learner's material and technical provision not stated correctly (`provision`), the cost computed with the wrong
coefficient (`coefficient`), an hours split that does not match the curriculum (`hours_split`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from prasmes_runtime.errors import InvalidInput, Violation

from calls.domain.calls import Call, Criterion
from calls.domain.common import add_years, text_key
from calls.domain.institutions import (
    CoefficientTable,
    DeliveredProgramme,
    LicensedProgramme,
    Programme,
    RegisteredInstitution,
)
from calls.domain.offers import ATTACHMENT_TITLES, STATEMENTS, Attachment, OfferContent, OfferedProgramme

Step = Literal["locations", "programmes", "offer"]
COST_REGULATION = "Cabinet regulation No 655, annex 3 (minimum cost coefficients)"
MIN_EQUIPMENT_CHARACTERS = 20
"""Below this a stated equipment is a word, not a description a learner can act on ("dators")."""


@dataclass(frozen=True)
class Problem:
    field: str
    rule: str
    source: str
    step: Step
    message: str

    def as_dict(self) -> dict[str, str]:
        return vars(self).copy()


class OfferNotReady(InvalidInput):
    """A submission with problems: a 422 carrying every problem (the `errors` of every 422, plus `problems`)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(*(Violation(p.field, p.rule, p.message) for p in problems))
        self.problems = tuple(problems)

    def body(self) -> dict[str, Any]:
        return {**super().body(), "problems": [p.as_dict() for p in self.problems]}


@dataclass(frozen=True)
class CheckInput:
    call: Call
    content: OfferContent
    attachments: Sequence[Attachment]
    programmes: Mapping[uuid.UUID, Programme]
    """The institution's programmes (catalog's read model)."""
    registered: RegisteredInstitution | None
    coefficients: CoefficientTable | None
    delivered: Sequence[DeliveredProgramme]
    today: date
    """Riga date of the check (the criteria's "years before the offer" count from it)."""


class _Found:
    """The problems found so far, with the sources of the call's submission rules."""

    def __init__(self, call: Call) -> None:
        self.call = call
        self.problems: list[Problem] = []

    @property
    def rules_source(self) -> str:
        return f"call {self.call.code}, submission rules"

    def add(self, step: Step, field: str, rule: str, message: str, source: str | None = None) -> None:
        self.problems.append(Problem(field, rule, source or self.rules_source, step, message))


def check_offer(given: CheckInput) -> list[Problem]:
    found = _Found(given.call)
    _check_locations(found, given)
    _check_programmes(found, given)
    _check_terms(found, given)
    _check_attachments(found, given)
    _check_institution(found, given)
    return found.problems


# --------------------------------------------------------------------------- step 1: implementation locations


def _check_locations(found: _Found, given: CheckInput) -> None:
    locations = given.content.locations
    if not locations:
        found.add("locations", "locations", "required", "name every address where the programmes are delivered")
    registered = {a.viis_id: a for a in given.registered.addresses} if given.registered else {}
    seen: set[str] = set()
    for i, location in enumerate(locations):
        at = f"locations[{i}]"
        empty = [name for name in ("address", "city", "viis_id") if not getattr(location, name).strip()]
        for name in empty:
            found.add("locations", f"{at}.{name}", "required", f"the {name.replace('_', ' ')} is empty")
        if empty:
            continue
        if location.viis_id in seen:
            found.add("locations", f"{at}.viis_id", "consistent", f"{location.viis_id} is listed twice")
        seen.add(location.viis_id)
        if given.registered is None:
            continue
        entry = registered.get(location.viis_id.strip())
        if entry is None:
            found.add(
                "locations", f"{at}.viis_id", "matches_register", f"VIIS has no {location.viis_id} for the institution"
            )
        elif text_key(entry.address) != text_key(location.address) or text_key(entry.city) != text_key(location.city):
            found.add(
                "locations",
                f"{at}.address",
                "matches_register",
                f"VIIS registers {location.viis_id} at {entry.address} ({entry.city})",
            )


# --------------------------------------------------------------------------- step 2: the programmes


def _check_programmes(found: _Found, given: CheckInput) -> None:
    if not given.content.programmes:
        found.add("programmes", "programmes", "required", "add the programmes of the offer")
    viis_ids = {loc.viis_id for loc in given.content.locations}
    for i, offered in enumerate(given.content.programmes):
        at = f"programmes[{i}]"
        programme = given.programmes.get(offered.programme_id)
        if programme is None:
            found.add("programmes", f"{at}.programme_id", "matches_register", "not a programme of the institution")
            continue
        _check_filled(found, at, offered)
        _check_places(found, at, offered, viis_ids)
        licence = _check_licence(found, given, at, offered, programme)
        _check_split(found, at, offered, programme, licence)
        _check_cost(found, given, at, offered, programme)
        if offered.programme_id in given.content.terms.programme_ids:
            _check_programme_criteria(found, given, at, programme, licence)


def _check_filled(found: _Found, at: str, offered: OfferedProgramme) -> None:
    for name in ("theory_hours", "practice_hours", "cost_per_participant"):
        if getattr(offered, name) is None:
            found.add("programmes", f"{at}.{name}", "required", f"the {name.replace('_', ' ')} is empty")
    provision = offered.provision
    if provision is None or not provision.equipment.strip():
        found.add("programmes", f"{at}.provision.equipment", "required", "state the equipment a learner needs")
    elif len(provision.equipment.strip()) < MIN_EQUIPMENT_CHARACTERS:
        found.add(
            "programmes",
            f"{at}.provision.equipment",
            "provision",
            "describe the equipment a learner needs (what computer, camera, software), not one word",
        )
    if provision is None or not provision.operating_systems:
        found.add(
            "programmes",
            f"{at}.provision.operating_systems",
            "provision",
            "state the operating systems a learner's computer may run (e.g. windows only)",
        )


def _check_places(found: _Found, at: str, offered: OfferedProgramme, viis_ids: set[str]) -> None:
    if not offered.location_viis_ids:
        found.add("programmes", f"{at}.location_viis_ids", "required", "name where the programme is delivered")
    for viis_id in offered.location_viis_ids:
        if viis_id not in viis_ids:
            found.add("programmes", f"{at}.location_viis_ids", "consistent", f"{viis_id} is not a location of step 1")


def _check_licence(
    found: _Found, given: CheckInput, at: str, offered: OfferedProgramme, programme: Programme
) -> LicensedProgramme | None:
    if not programme.licence_number:
        found.add("programmes", f"{at}.licence_number", "required", "the programme has no licence number")
        return None
    if given.registered is None:
        return None
    licence = given.registered.licence(programme.licence_number)
    if licence is None:
        found.add(
            "programmes",
            f"{at}.licence_number",
            "matches_register",
            f"the register has no licence {programme.licence_number} of the institution",
        )
        return None
    if text_key(programme.title.get("lv", "")) != text_key(licence.title):
        found.add("programmes", f"{at}.title", "matches_licence", f"the licensed programme is titled {licence.title!r}")
    if programme.hours != licence.hours:
        found.add("programmes", f"{at}.hours", "matches_licence", f"the licensed programme has {licence.hours} hours")
    return licence


def _check_split(
    found: _Found, at: str, offered: OfferedProgramme, programme: Programme, licence: LicensedProgramme | None
) -> None:
    theory, practice = offered.theory_hours, offered.practice_hours
    if theory is None or practice is None:
        return
    if programme.hours is not None and theory + practice != programme.hours:
        found.add(
            "programmes",
            f"{at}.theory_hours",
            "consistent",
            f"theory {theory} h + practice {practice} h is not the programme's {programme.hours} h",
        )
    if licence is not None and (theory, practice) != (licence.theory_hours, licence.practice_hours):
        found.add(
            "programmes",
            f"{at}.theory_hours",
            "hours_split",
            f"the licensed curriculum splits it {licence.theory_hours} h theory / {licence.practice_hours} h practice",
        )


def _check_cost(found: _Found, given: CheckInput, at: str, offered: OfferedProgramme, programme: Programme) -> None:
    if offered.cost_per_participant is None or programme.hours is None:
        return
    field = f"{at}.cost_per_participant"
    table = given.coefficients
    if table is None or not programme.programme_group:
        found.add("programmes", field, "coefficient", "no coefficient table in force for the programme's group")
        return
    expected = table.cost(programme.programme_group, programme.hours)
    if expected is None:
        found.add(
            "programmes",
            field,
            "coefficient",
            f"the coefficient table v{table.version} has no group {programme.programme_group!r}",
            COST_REGULATION,
        )
    elif offered.cost_per_participant != expected:
        found.add(
            "programmes",
            field,
            "coefficient",
            f"{table.hourly_rate} EUR/h × {table.coefficients[programme.programme_group]} (table v{table.version}), "
            f"rounded to cents, × {programme.hours} h = {expected} EUR, not {offered.cost_per_participant}",
            COST_REGULATION,
        )


# --------------------------------------------------------------------------- the call's programme criteria


def _check_programme_criteria(
    found: _Found, given: CheckInput, at: str, programme: Programme, licence: LicensedProgramme | None
) -> None:
    for criterion in given.call.programme_criteria:
        failed = _PROGRAMME_CHECKS[criterion.rule](criterion.params, programme, licence, given.registered is not None)
        if failed is not None:
            field, message = failed
            found.add("programmes", f"{at}.{field}", criterion.rule, message, criterion.source_in(given.call.code))


Failure = tuple[str, str] | None


def _licensed(_: Mapping[str, Any], p: Programme, licence: LicensedProgramme | None, known: bool) -> Failure:
    if licence is None and known:
        return "licence_number", "a licensed programme is required"
    return None


def _kind(params: Mapping[str, Any], p: Programme, licence: LicensedProgramme | None, known: bool) -> Failure:
    if licence is not None and licence.kind != params["kind"]:
        return "licence_number", f"the licence is a {licence.kind} programme, not {params['kind']}"
    return None


def _form(params: Mapping[str, Any], p: Programme, licence: LicensedProgramme | None, known: bool) -> Failure:
    if p.form not in params["forms"]:
        return "form", f"the form must be {' or '.join(params['forms'])}, not {p.form}"
    return None


def _digcomp(params: Mapping[str, Any], p: Programme, licence: LicensedProgramme | None, known: bool) -> Failure:
    if p.digcomp_level is None or not params["min"] <= p.digcomp_level <= params["max"]:
        return "digcomp_level", f"DigComp level {params['min']} to {params['max']}, not {p.digcomp_level}"
    return None


def _digital(params: Mapping[str, Any], p: Programme, licence: LicensedProgramme | None, known: bool) -> Failure:
    if p.digital_share_percent is None or p.digital_share_percent < Decimal(params["min_percent"]):
        return "digital_share_percent", f"at least {params['min_percent']} % digital skills"
    return None


def _qualifications(params: Mapping[str, Any], p: Programme, _l: LicensedProgramme | None, _k: bool) -> Failure:
    if not set(p.qualifications) & set(params["any_of"]):
        return "qualifications", f"must aim at one of the qualifications {', '.join(params['any_of'])}"
    return None


_PROGRAMME_CHECKS: dict[str, Callable[[Mapping[str, Any], Programme, LicensedProgramme | None, bool], Failure]] = {
    "licensed": _licensed,
    "programme_kind": _kind,
    "form": _form,
    "digcomp_range": _digcomp,
    "digital_share": _digital,
    "qualifications": _qualifications,
}


# --------------------------------------------------------------------------- step 3: the offer


def _check_terms(found: _Found, given: CheckInput) -> None:
    terms, call = given.content.terms, given.call
    if not terms.funding_source:
        found.add("offer", "terms.funding_source", "required", "choose the funding source")
    elif terms.funding_source != call.project_code:
        found.add("offer", "terms.funding_source", "consistent", f"the call funds from {call.project_code}")
    if not terms.programme_ids:
        found.add("offer", "terms.programme_ids", "required", "tick the programmes offered")
    in_step_2 = {p.programme_id for p in given.content.programmes}
    for programme_id in terms.programme_ids:
        if programme_id not in in_step_2:
            found.add("offer", "terms.programme_ids", "consistent", f"{programme_id} is not a programme of step 2")
    allowed = call.max_programmes_per_institution
    if len(terms.programme_ids) > allowed:
        found.add(
            "offer",
            "terms.programme_ids",
            "max_programmes",
            f"at most {allowed} programmes per institution, not {len(terms.programme_ids)}",
            f"call {call.code}, maximum number of programmes per institution",
        )
    for code, meaning in STATEMENTS.items():
        if code not in terms.statements:
            found.add("offer", f"terms.statements.{code}", "confirmed", f"confirm that {meaning}")


def _check_attachments(found: _Found, given: CheckInput) -> None:
    held = {(a.kind, a.programme_id): a for a in given.attachments}
    for kind in ("application", "experience", "signed_statement"):
        if (kind, None) not in held:
            found.add("offer", f"attachments.{kind}", "document_required", f"attach {ATTACHMENT_TITLES[kind]}")
    statement = held.get(("signed_statement", None))
    if statement is not None and (statement.signatures == 0 or statement.timestamps < statement.signatures):
        found.add("offer", "attachments.signed_statement", "signature", "the statement's signature needs a time stamp")
    for programme_id in given.content.terms.programme_ids:
        if ("curriculum", programme_id) not in held:
            found.add(
                "offer",
                f"attachments.curriculum.{programme_id}",
                "document_required",
                f"attach the licensed curriculum of programme {programme_id}",
            )


# --------------------------------------------------------------------------- the call's institution criteria


def _check_institution(found: _Found, given: CheckInput) -> None:
    if given.registered is None:
        found.add(
            "offer", "institution.register_number", "matches_register", "the register of institutions does not list it"
        )
        return
    for criterion in given.call.institution_criteria:
        message = _INSTITUTION_CHECKS[criterion.rule](criterion, given)
        if message is not None:
            source = criterion.source_in(given.call.code)
            found.add("offer", f"institution.{criterion.rule}", criterion.rule, message, source)


def _int(criterion: Criterion, name: str) -> int:
    value = criterion.params[name]
    assert isinstance(value, int), "checked when the call was opened"
    return value


def _accredited(_: Criterion, given: CheckInput) -> str | None:
    registered = given.registered
    assert registered is not None
    until = registered.accreditation_valid_until
    if not registered.accredited or (until is not None and until < given.today):
        return "the institution is not accredited (or its accreditation has expired)"
    return None


def _registered_years(criterion: Criterion, given: CheckInput) -> str | None:
    registered = given.registered
    assert registered is not None
    years = _int(criterion, "years")
    if registered.registration_date > add_years(given.today, -years):
        return f"registered on {registered.registration_date}: at least {years} years before the offer are required"
    return None


def _vocational_years(criterion: Criterion, given: CheckInput) -> str | None:
    registered = given.registered
    assert registered is not None
    years = _int(criterion, "years")
    since = add_years(given.today, -years)
    if not any(
        p.kind == "vocational" and p.accredited and p.licence_date <= since for p in registered.licensed_programmes
    ):
        return f"no licensed and accredited vocational programme delivered for at least {years} years"
    return None


def _delivered(criterion: Criterion, given: CheckInput) -> str | None:
    count, level, completers = (_int(criterion, k) for k in ("count", "min_digcomp", "min_completers"))
    qualifying = [
        d
        for d in given.delivered
        if d.digcomp_level is not None and d.digcomp_level >= level and d.best_group_completers >= completers
    ]
    if len(qualifying) < count:
        return (
            f"{len(qualifying)} programmes at DigComp {level}+ with a group of {completers}+ completers on the "
            f"platform; {count} are required"
        )
    return None


_INSTITUTION_CHECKS: dict[str, Callable[[Criterion, CheckInput], str | None]] = {
    "accredited": _accredited,
    "registered_years": _registered_years,
    "vocational_programme_years": _vocational_years,
    "delivered_programmes": _delivered,
}
