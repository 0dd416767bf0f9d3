"""An education institution's offers to the agency's calls: the three steps, the checks before submission, withdrawal
and resubmission, clarifications, decisions and agreements."""

from __future__ import annotations

import asyncio
import functools
import re
import uuid
from collections.abc import Awaitable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from babel.support import Translations
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from web import i18n
from web.gateway import ApiError
from web.i18n import Language
from web.messages import N_, RULES, rule_message
from web.pages.common import App, Form, InstitutionUser, Upload, field_errors, institution
from web.rendering import language_of_request
from web.session import User

router = APIRouter(dependencies=[Depends(institution)])
CALLS, CATALOG = "/api/calls", "/api/catalog"
PAGE_SIZE = 20
MAX_UPLOAD_BYTES = 8 * 1024 * 1024
STEPS = ("locations", "programmes", "terms")
STEP_OF_PROBLEM = {"locations": "locations", "programmes": "programmes", "offer": "terms"}
STEP_TITLES = {
    "locations": N_("Implementation locations"),
    "programmes": N_("Programmes"),
    "terms": N_("Funding, statements and documents"),
}
STATEMENTS = {
    "data_true": N_("The information given in the offer is true and complete"),
    "no_double_funding": N_("The programmes are not funded twice for the same learners"),
    "call_terms_accepted": N_("The institution accepts the terms of the call"),
}
KINDS = {
    "application": N_("Application (annex 2)"),
    "experience": N_("Experience statement (annex 3)"),
    "curriculum": N_("Licensed curriculum of a programme"),
    "signed_statement": N_("Statement signed with a qualified electronic signature and a time stamp"),
}
OPERATING_SYSTEMS = {
    "windows": "Windows",
    "macos": "macOS",
    "linux": "Linux",
    "chromeos": "ChromeOS",
    "any": N_("Any"),
}
STATE_NAMES = {
    "draft": N_("Draft"),
    "submitted": N_("Submitted"),
    "withdrawn": N_("Withdrawn"),
    "under_evaluation": N_("Under evaluation"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
}
FIELD_PARTS = {
    "locations": N_("Implementation locations"),
    "address": N_("Address"),
    "city": N_("City"),
    "viis_id": N_("VIIS id"),
    "programmes": N_("Programmes"),
    "programme_id": N_("Programme"),
    "theory_hours": N_("Theory hours"),
    "practice_hours": N_("Practice hours"),
    "cost_per_participant": N_("Cost per participant"),
    "equipment": N_("Equipment a learner needs"),
    "operating_systems": N_("Operating systems"),
    "location_viis_ids": N_("Where it is delivered"),
    "licence_number": N_("Licence"),
    "title": N_("Title"),
    "hours": N_("Hours"),
    "form": N_("Form of studies"),
    "digcomp_level": N_("DigComp level"),
    "digital_share_percent": N_("Share of digital skills"),
    "qualifications": N_("Qualifications"),
    "funding_source": N_("Funding source"),
    "programme_ids": N_("Programmes offered"),
    "statements": N_("Statements"),
    "register_number": N_("Registration number"),
    "institution": N_("The institution"),
}
OFFER_CHECK_PREFIX = "offer:"
"""The institution's offer's rules in messages.RULES are keyed `offer:<rule>` (calls' rule names are generic)."""
T = TypeVar("T")
Errors = dict[str, str]


# --------------------------------------------------------------------------- what the pages share


async def _optional(call: Awaitable[T]) -> T | None:
    """An answer that may not exist yet (a decision, an agreement): None for a 404."""
    try:
        return await call
    except ApiError as error:
        if error.status == 404:
            return None
        raise


async def _offer(app: App, user: User, offer_id: uuid.UUID) -> dict[str, Any]:
    found: dict[str, Any] = await app.gateway.get(f"{CALLS}/offers/{offer_id}", user.access_token)
    return found


async def _call(app: App, user: User, call_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await app.gateway.get(f"{CALLS}/calls/{call_id}", user.access_token)
    return found


def time_left(deadline_at: str, now: datetime | None = None) -> tuple[int, int, int] | None:
    """Days, hours and minutes until the deadline minute has passed (on time through its last second); None once
    closed."""
    end = datetime.fromisoformat(deadline_at) + timedelta(minutes=1)
    left = end - (now or datetime.now(UTC))
    if left.total_seconds() <= 0:
        return None
    minutes = int(left.total_seconds() // 60)
    return minutes // (24 * 60), minutes // 60 % 24, minutes % 60


def window_open(call: Mapping[str, Any]) -> bool:
    return call.get("phase") == "offers" and _left(call) is not None


def conflict_message(error: ApiError) -> str:
    return str(error.body.get("message") or error.body.get("error") or "")


@functools.lru_cache(maxsize=4)
def _translations(language: Language) -> Translations:
    """The language's catalogue, for the few words written here rather than in a template (read once)."""
    return i18n.load_translations(language)


def problem_message(problem: Mapping[str, Any], gettext: Any) -> str:
    """What the page says for a problem: its rule's message in the page's language, else the API's own words."""
    known = RULES.get(OFFER_CHECK_PREFIX + str(problem.get("rule", "")))
    return str(gettext(known)) if known else str(problem.get("message", ""))


def field_label(field: str, titles: Mapping[str, str], gettext: Any) -> str:
    """A check's field (`programmes[0].provision.equipment`) as words: `Programmes 1: Equipment a learner needs`."""
    words: list[str] = []
    for part in field.split("."):
        found = re.fullmatch(r"([a-z_]+)\[(\d+)\]", part)
        name, index = (found.group(1), int(found.group(2)) + 1) if found else (part, 0)
        if name in ("provision", "terms", "attachments"):
            continue
        if name in STATEMENTS:
            words.append(gettext(STATEMENTS[name]))
        elif name in KINDS:
            words.append(gettext(KINDS[name]))
        elif name in titles:
            words.append(titles[name])
        elif name in FIELD_PARTS:
            words.append(gettext(FIELD_PARTS[name]) + (f" {index}" if index else ""))
        else:
            words.append(name)
    return ": ".join(words)


def _page_errors(violations: Sequence[Mapping[str, Any]]) -> Errors:
    """The API's refusal by the page's field: the offer's own message for a rule where it has one."""
    return {
        field: RULES.get(OFFER_CHECK_PREFIX + rule) or rule_message(rule)
        for field, rule in field_errors(violations).items()
    }


def _steps(offer_id: str, current: str) -> list[dict[str, Any]]:
    return [
        {
            "key": key,
            "title": STEP_TITLES[key],
            "href": f"/institution/offers/{offer_id}/{key}",
            "current": key == current,
        }
        for key in STEPS
    ]


def _after_save(offer_id: str, step: str, form: Mapping[str, str]) -> RedirectResponse:
    """Save and continue to the next step (the checks after the last), or save and come back later."""
    if form.get("action") == "later":
        return RedirectResponse(f"/institution/offers/{offer_id}?saved=1", status_code=303)
    index = STEPS.index(step)
    target = STEPS[index + 1] if index + 1 < len(STEPS) else "check"
    return RedirectResponse(f"/institution/offers/{offer_id}/{target}", status_code=303)


def _render_step(
    request: Request, app: App, template: str, offer: Mapping[str, Any], step: str, **context: Any
) -> HTMLResponse:
    status = context.pop("status_code", 200)
    return app.pages.render(
        request,
        template,
        status_code=status,
        offer=offer,
        steps=_steps(str(offer["id"]), step),
        step_number=STEPS.index(step) + 1,
        STATE_NAMES=STATE_NAMES,
        **context,
    )


def _not_editable(offer: Mapping[str, Any]) -> bool:
    return not offer.get("editable", False)


# --------------------------------------------------------------------------- the calls and my offers


@router.get("/institution/offers", response_class=HTMLResponse)
async def offers(
    request: Request, app: App, user: InstitutionUser, page: int = Query(1, ge=1, le=10_000)
) -> HTMLResponse:
    params = {"limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE}
    listed = await app.gateway.get(f"{CALLS}/calls", user.access_token, params=params)
    calls: list[dict[str, Any]] = listed["items"]
    approved = True
    mine: list[list[dict[str, Any]]] = []
    try:
        answers = await asyncio.gather(
            *(app.gateway.get(f"{CALLS}/calls/{c['id']}/offers", user.access_token, params={"limit": 5}) for c in calls)
        )
        mine = [a["items"] for a in answers]
    except ApiError as error:
        if error.status != 403:  # an institution not (yet) approved has no offers and may start none
            raise
        approved, mine = False, [[] for _ in calls]
    rows = [
        {"call": c, "offer": (m[0] if m else None), "open": window_open(c), "left": _left(c)}
        for c, m in zip(calls, mine, strict=True)
    ]
    total = int(listed.get("total", len(calls)))
    return app.pages.render(
        request,
        "offer_list.html",
        rows=rows,
        approved=approved,
        admin=user.provider_admin,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        refused=request.query_params.get("refused", ""),
        STATE_NAMES=STATE_NAMES,
    )


def _left(call: Mapping[str, Any]) -> tuple[int, int, int] | None:
    """The time left by calls' clock (the instant its answer is of), which decides the window, not this process's."""
    as_of = call.get("as_of")
    return time_left(call["timeline"]["offers_deadline_at"], datetime.fromisoformat(as_of) if as_of else None)


@router.post("/institution/calls/{call_id}/offers", response_class=HTMLResponse)
async def start(request: Request, app: App, user: InstitutionUser, call_id: uuid.UUID, form: Form) -> Response:
    """Start the institution's offer to the call, or resume the one it has (one offer per institution and call)."""
    try:
        offer = await app.gateway.post(f"{CALLS}/calls/{call_id}/offers", user.access_token, None)
    except ApiError as error:
        current = error.body.get("current")
        existing: dict[str, Any] = current if isinstance(current, dict) else {}
        if error.status == 409 and existing.get("offer_id"):
            return RedirectResponse(f"/institution/offers/{existing['offer_id']}/locations", status_code=303)
        if error.status in (403, 409):
            return RedirectResponse(f"/institution/offers?refused={error.status}", status_code=303)
        raise
    return RedirectResponse(f"/institution/offers/{offer['id']}/locations", status_code=303)


# --------------------------------------------------------------------------- step 1: implementation locations


async def _locations(app: App, user: User) -> list[dict[str, Any]]:
    """The institution's catalog locations (those VIIS registered for it)."""
    mine = await app.gateway.get(f"{CATALOG}/providers/me", user.access_token)
    found: list[dict[str, Any]] = await app.gateway.get(
        f"{CATALOG}/providers/{mine['institution']['id']}/locations", user.access_token
    )
    return found


@router.get("/institution/offers/{offer_id}/locations", response_class=HTMLResponse)
async def locations_step(request: Request, app: App, user: InstitutionUser, offer_id: uuid.UUID) -> HTMLResponse:
    offer, known = await asyncio.gather(_offer(app, user, offer_id), _locations(app, user))
    chosen = [loc["viis_id"] for loc in offer["content"]["locations"]]
    return _locations_page(request, app, offer, known, chosen, {}, "", user.provider_admin)


def _locations_page(
    request: Request,
    app: App,
    offer: Mapping[str, Any],
    known: list[dict[str, Any]],
    chosen: list[str],
    errors: Errors,
    refusal: str,
    admin: bool,
    status_code: int = 200,
) -> HTMLResponse:
    known_ids = {loc["viis_id"] for loc in known}
    earlier = [loc for loc in offer["content"]["locations"] if loc["viis_id"] not in known_ids]
    return _render_step(
        request,
        app,
        "offer_locations.html",
        offer,
        "locations",
        known=known + earlier,
        chosen=chosen,
        errors=errors,
        refusal=refusal,
        status_code=status_code,
        admin=admin,
    )


@router.post("/institution/offers/{offer_id}/locations", response_class=HTMLResponse)
async def save_locations(
    request: Request, app: App, user: InstitutionUser, offer_id: uuid.UUID, form: Form
) -> Response:
    chosen = (await request.form()).getlist("viis_id")
    offer, known = await asyncio.gather(_offer(app, user, offer_id), _locations(app, user))
    by_id = {loc["viis_id"]: loc for loc in known + offer["content"]["locations"]}
    body = {
        "locations": [
            {"address": by_id[v]["address"], "city": by_id[v]["city"], "viis_id": v}
            for v in dict.fromkeys(str(c) for c in chosen)
            if v in by_id
        ]
    }
    try:
        await app.gateway.put(f"{CALLS}/offers/{offer_id}/locations", user.access_token, body)
    except ApiError as error:
        if error.status not in (409, 422):
            raise
        errors = _page_errors(error.violations) if error.status == 422 else {}
        shown = [str(c) for c in chosen]
        refusal = conflict_message(error)
        return _locations_page(
            request, app, offer, known, shown, errors, refusal, user.provider_admin, status_code=error.status
        )
    return _after_save(str(offer_id), "locations", form)


# --------------------------------------------------------------------------- step 2: the programmes


async def _catalog_programmes(app: App, user: User) -> dict[str, dict[str, Any]]:
    """The institution's programmes as catalog has them (their hours split, equipment), to fill step 2 in."""
    mine = await app.gateway.get(f"{CATALOG}/providers/me", user.access_token)
    response = await app.gateway.raw(
        f"{CATALOG}/providers/{mine['institution']['id']}/programmes", user.access_token, params={"limit": 100}
    )
    items: list[dict[str, Any]] = response.json()
    return {str(p["id"]): p for p in items}


async def _offerable(app: App, user: User) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await app.gateway.get(f"{CALLS}/institutions/me/programmes", user.access_token)
    return found


def _programme_rows(
    offerable: list[dict[str, Any]], catalog: Mapping[str, Mapping[str, Any]], offered: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each programme the institution may offer, with what the form shows: the offer's entry, else catalog's."""
    by_id = {str(p["programme_id"]): p for p in offered}
    rows = []
    for programme in offerable:
        pid = str(programme["programme_id"])
        entry = by_id.get(pid)
        known = catalog.get(pid, {})
        if entry is not None:
            provision = entry.get("provision") or {}
            values = {
                "theory_hours": entry.get("theory_hours"),
                "practice_hours": entry.get("practice_hours"),
                "cost": entry.get("cost_per_participant"),
                "equipment": provision.get("equipment", ""),
                "operating_systems": provision.get("operating_systems", []),
                "viis": entry.get("location_viis_ids", []),
            }
        else:
            values = {
                "theory_hours": known.get("theory_hours"),
                "practice_hours": known.get("practice_hours"),
                "cost": programme.get("cost_per_participant"),
                "equipment": known.get("equipment", ""),
                "operating_systems": list(known.get("operating_systems", [])),
                "viis": [],
            }
        rows.append({"programme": programme, "included": entry is not None, "entered": values})
    return rows


@router.get("/institution/offers/{offer_id}/programmes", response_class=HTMLResponse)
async def programmes_step(request: Request, app: App, user: InstitutionUser, offer_id: uuid.UUID) -> HTMLResponse:
    offer, offerable, catalog = await asyncio.gather(
        _offer(app, user, offer_id), _offerable(app, user), _catalog_programmes(app, user)
    )
    rows = _programme_rows(offerable, catalog, offer["content"]["programmes"])
    return _programmes_page(request, app, offer, rows, {}, "", user.provider_admin)


def _programmes_page(
    request: Request,
    app: App,
    offer: Mapping[str, Any],
    rows: list[dict[str, Any]],
    errors: Errors,
    refusal: str,
    admin: bool,
    status_code: int = 200,
) -> HTMLResponse:
    return _render_step(
        request,
        app,
        "offer_programmes.html",
        offer,
        "programmes",
        rows=rows,
        places=offer["content"]["locations"],
        OPERATING_SYSTEMS=OPERATING_SYSTEMS,
        errors=errors,
        refusal=refusal,
        status_code=status_code,
        admin=admin,
    )


def _whole(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def _amount(value: str | None) -> str | None:
    value = (value or "").strip().replace(",", ".").replace("€", "").replace(" ", "")
    return value if re.fullmatch(r"\d{1,10}(\.\d{1,2})?", value) else None


def programmes_body(form: FormData, offerable_ids: Sequence[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ticked programmes as calls takes them (an empty or unreadable number is sent empty: the checks name it),
    and the form's entries as the page shows them again."""
    ticked = {str(v) for v in form.getlist("programme")}
    body: list[dict[str, Any]] = []
    shown: list[dict[str, Any]] = []
    for pid in offerable_ids:
        theory, practice = str(form.get(f"theory_hours-{pid}", "")), str(form.get(f"practice_hours-{pid}", ""))
        cost, equipment = str(form.get(f"cost-{pid}", "")), str(form.get(f"equipment-{pid}", ""))
        systems = [str(v) for v in form.getlist(f"os-{pid}") if v in OPERATING_SYSTEMS]
        places = [str(v) for v in form.getlist(f"viis-{pid}")]
        values = {"theory_hours": theory, "practice_hours": practice, "cost": cost, "equipment": equipment,
                  "operating_systems": systems, "viis": places}  # fmt: skip
        shown.append({"id": pid, "included": pid in ticked, "entered": values})
        if pid not in ticked:
            continue
        body.append(
            {
                "programme_id": pid,
                "theory_hours": _whole(theory),
                "practice_hours": _whole(practice),
                "cost_per_participant": _amount(cost),
                "provision": {"equipment": equipment.strip(), "operating_systems": systems},
                "location_viis_ids": places,
            }
        )
    return {"programmes": body}, shown


@router.post("/institution/offers/{offer_id}/programmes", response_class=HTMLResponse)
async def save_programmes(
    request: Request, app: App, user: InstitutionUser, offer_id: uuid.UUID, form: Form
) -> Response:
    offer, offerable = await asyncio.gather(_offer(app, user, offer_id), _offerable(app, user))
    body, shown = programmes_body(await request.form(), [str(p["programme_id"]) for p in offerable])
    try:
        await app.gateway.put(f"{CALLS}/offers/{offer_id}/programmes", user.access_token, body)
    except ApiError as error:
        if error.status not in (409, 422):
            raise
        by_id = {str(p["programme_id"]): p for p in offerable}
        rows = [{"programme": by_id[s["id"]], "included": s["included"], "entered": s["entered"]} for s in shown]
        errors = _page_errors(error.violations) if error.status == 422 else {}
        refusal = conflict_message(error)
        return _programmes_page(request, app, offer, rows, errors, refusal, user.provider_admin, error.status)
    return _after_save(str(offer_id), "programmes", form)


# --------------------------------------------------------------------------- step 3: funding, statements, documents


@router.get("/institution/offers/{offer_id}/terms", response_class=HTMLResponse)
async def terms_step(request: Request, app: App, user: InstitutionUser, offer_id: uuid.UUID) -> HTMLResponse:
    offer = await _offer(app, user, offer_id)
    terms = offer["content"]["terms"]
    return await _terms_page(request, app, user, offer, terms, {}, "", request.query_params.get("uploaded", ""))


async def _terms_page(
    request: Request,
    app: App,
    user: User,
    offer: Mapping[str, Any],
    terms: Mapping[str, Any],
    errors: Errors,
    refusal: str,
    notice: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    call, offerable = await asyncio.gather(_call(app, user, str(offer["call_id"])), _offerable(app, user))
    titles = {str(p["programme_id"]): p["title"] for p in offerable}
    in_step_2 = [str(p["programme_id"]) for p in offer["content"]["programmes"]]
    return _render_step(
        request,
        app,
        "offer_terms.html",
        offer,
        "terms",
        call=call,
        terms=terms,
        chosen_programmes=[str(p) for p in terms.get("programme_ids", [])],
        in_step_2=in_step_2,
        titles=titles,
        attachments=offer["content"]["attachments"],
        STATEMENTS=STATEMENTS,
        KINDS=KINDS,
        errors=errors,
        refusal=refusal,
        notice=notice,
        status_code=status_code,
        admin=user.provider_admin,
    )


@router.post("/institution/offers/{offer_id}/terms", response_class=HTMLResponse)
async def save_terms(request: Request, app: App, user: InstitutionUser, offer_id: uuid.UUID, form: Form) -> Response:
    posted = await request.form()
    body = {
        "funding_source": (form.get("funding_source") or "").strip() or None,
        "programme_ids": list(dict.fromkeys(str(v) for v in posted.getlist("programme_ids"))),
        "statements": [s for s in STATEMENTS if s in {str(v) for v in posted.getlist("statements")}],
    }
    try:
        await app.gateway.put(f"{CALLS}/offers/{offer_id}/terms", user.access_token, body)
    except ApiError as error:
        if error.status not in (409, 422):
            raise
        offer = await _offer(app, user, offer_id)
        errors = _page_errors(error.violations) if error.status == 422 else {}
        return await _terms_page(
            request, app, user, offer, body, errors, conflict_message(error), status_code=error.status
        )
    return _after_save(str(offer_id), "terms", form)


@router.post("/institution/offers/{offer_id}/attachments", response_class=HTMLResponse)
async def upload(request: Request, app: App, user: InstitutionUser, offer_id: uuid.UUID, form: Upload) -> Response:
    """A document uploaded in the page (multipart), sent to calls as the body with its content type."""
    kind = str(form.get("kind", ""))
    file = form.get("file")
    errors: Errors = {}
    if kind not in KINDS:
        errors["kind"] = N_("Choose what the document is")
    if not isinstance(file, UploadFile) or not file.filename:
        errors["file"] = N_("Choose the file to upload")
    if not errors and isinstance(file, UploadFile):
        errors = await _uploaded(app, user, offer_id, kind, str(form.get("programme_id", "")), file)
    if not errors:
        return RedirectResponse(f"/institution/offers/{offer_id}/terms?uploaded={kind}#attachments", status_code=303)
    offer = await _offer(app, user, offer_id)
    refusal = errors.pop("_conflict", "")
    status = 409 if refusal else 422
    return await _terms_page(request, app, user, offer, offer["content"]["terms"], errors, refusal, status_code=status)


async def _uploaded(
    app: App, user: User, offer_id: uuid.UUID, kind: str, programme_id: str, file: UploadFile
) -> Errors:
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        return {"file": rule_message("max_size")}
    params = {"kind": kind, "filename": (file.filename or "")[-255:]}
    if kind == "curriculum":
        if not programme_id:
            return {"programme_id": N_("Choose the programme whose curriculum this is")}
        params["programme_id"] = programme_id
    media_type = file.content_type or "application/octet-stream"
    try:
        await app.gateway.upload(
            f"{CALLS}/offers/{offer_id}/attachments", user.access_token, content, media_type, params=params
        )
    except ApiError as error:
        if error.status == 409:
            return {"_conflict": conflict_message(error)}
        if error.status != 422:
            raise
        return _page_errors(error.violations)
    return {}


@router.get("/institution/offers/{offer_id}/attachments/{attachment_id}/remove", response_class=HTMLResponse)
async def remove_confirmation(
    request: Request, app: App, user: InstitutionUser, offer_id: uuid.UUID, attachment_id: uuid.UUID
) -> HTMLResponse:
    offer = await _offer(app, user, offer_id)
    return _remove_page(request, app, offer, attachment_id, "")


def _remove_page(
    request: Request, app: App, offer: Mapping[str, Any], attachment_id: uuid.UUID, refusal: str, status: int = 200
) -> HTMLResponse:
    found = next((a for a in offer["content"]["attachments"] if a["id"] == str(attachment_id)), None)
    if found is None:
        return app.pages.render(request, "not_found.html", status_code=404)
    return app.pages.render(
        request, "offer_attachment_remove.html", status_code=status, offer=offer, attachment=found,
        KINDS=KINDS, refusal=refusal,
    )  # fmt: skip


@router.post("/institution/offers/{offer_id}/attachments/{attachment_id}/remove", response_class=HTMLResponse)
async def remove(
    request: Request, app: App, user: InstitutionUser, offer_id: uuid.UUID, attachment_id: uuid.UUID, form: Form
) -> Response:
    try:
        await app.gateway.delete(f"{CALLS}/offers/{offer_id}/attachments/{attachment_id}", user.access_token)
    except ApiError as error:
        if error.status != 409:
            raise
        offer = await _offer(app, user, offer_id)
        return _remove_page(request, app, offer, attachment_id, conflict_message(error), 409)
    return RedirectResponse(f"/institution/offers/{offer_id}/terms?uploaded=removed#attachments", status_code=303)


# --------------------------------------------------------------------------- the checks and the submission


@router.get("/institution/offers/{offer_id}/check", response_class=HTMLResponse)
async def check(request: Request, app: App, user: InstitutionUser, offer_id: uuid.UUID) -> HTMLResponse:
    """Every check of calls at once (one request for the offer, one for the checks, side by side)."""
    offer, checks = await asyncio.gather(
        _offer(app, user, offer_id), app.gateway.post(f"{CALLS}/offers/{offer_id}/checks", user.access_token, None)
    )
    return await _check_page(request, app, user, offer, checks["problems"], "")


async def _check_page(
    request: Request,
    app: App,
    user: User,
    offer: Mapping[str, Any],
    problems: list[dict[str, Any]],
    refusal: str,
    status_code: int = 200,
) -> HTMLResponse:
    gettext = _translations(language_of_request(request)).gettext
    titles = {  # a curriculum's programme id, as its place in step 2
        str(p["programme_id"]): f"{gettext(FIELD_PARTS['programme_id'])} {i + 1}"
        for i, p in enumerate(offer["content"]["programmes"])
    }
    shown = [
        {
            "field": field_label(str(p["field"]), titles, gettext),
            "api_field": p["field"],
            "rule": p["rule"],
            "source": p.get("source", ""),
            "message": problem_message(p, gettext),
            "detail": str(p.get("message", "")),
            "step": STEP_OF_PROBLEM.get(str(p.get("step")), "terms"),
        }
        for p in problems
    ]
    return app.pages.render(
        request,
        "offer_check.html",
        status_code=status_code,
        offer=offer,
        problems=shown,
        STEP_TITLES=STEP_TITLES,
        STATE_NAMES=STATE_NAMES,
        refusal=refusal,
        admin=user.provider_admin,
        submittable=offer.get("state") in ("draft", "withdrawn"),
    )


@router.post("/institution/offers/{offer_id}/submit", response_class=HTMLResponse)
async def submit(request: Request, app: App, user: InstitutionUser, offer_id: uuid.UUID, form: Form) -> Response:
    """The checks run again in calls: a refusal shows the check list (422) or why not now (409)."""
    try:
        await app.gateway.post(f"{CALLS}/offers/{offer_id}/submit", user.access_token, None)
    except ApiError as error:
        if error.status not in (409, 422):
            raise
        offer = await _offer(app, user, offer_id)
        listed = error.body.get("problems")
        problems: list[dict[str, Any]] = listed if isinstance(listed, list) else []
        if error.status == 422 and not problems:
            problems = [dict(v, step="offer", source="") for v in error.violations]
        refusal = conflict_message(error) if error.status == 409 else ""
        return await _check_page(request, app, user, offer, problems, refusal, status_code=error.status)
    return RedirectResponse(f"/institution/offers/{offer_id}?submitted=1", status_code=303)


@router.get("/institution/offers/{offer_id}/withdraw", response_class=HTMLResponse)
async def withdraw_confirmation(request: Request, app: App, user: InstitutionUser, offer_id: uuid.UUID) -> HTMLResponse:
    offer = await _offer(app, user, offer_id)
    return await _withdraw_page(request, app, user, offer, "")


async def _withdraw_page(
    request: Request, app: App, user: User, offer: Mapping[str, Any], refusal: str, status_code: int = 200
) -> HTMLResponse:
    call = await _call(app, user, str(offer["call_id"]))
    return app.pages.render(
        request, "offer_withdraw.html", status_code=status_code, offer=offer, call=call, left=_left(call),
        refusal=refusal,
    )  # fmt: skip


@router.post("/institution/offers/{offer_id}/withdraw", response_class=HTMLResponse)
async def withdraw(request: Request, app: App, user: InstitutionUser, offer_id: uuid.UUID, form: Form) -> Response:
    try:
        await app.gateway.post(f"{CALLS}/offers/{offer_id}/withdraw", user.access_token, None)
    except ApiError as error:
        if error.status != 409:
            raise
        offer = await _offer(app, user, offer_id)
        return await _withdraw_page(request, app, user, offer, conflict_message(error), status_code=409)
    return RedirectResponse(f"/institution/offers/{offer_id}?withdrawn=1", status_code=303)


# --------------------------------------------------------------------------- the overview


@router.get("/institution/offers/{offer_id}", response_class=HTMLResponse)
async def overview(request: Request, app: App, user: InstitutionUser, offer_id: uuid.UUID) -> HTMLResponse:
    offer = await _offer(app, user, offer_id)
    return await _overview_page(request, app, user, offer, {}, "")


async def _overview_page(
    request: Request,
    app: App,
    user: User,
    offer: Mapping[str, Any],
    errors: Errors,
    refusal: str,
    entered: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    token, base = user.access_token, f"{CALLS}/offers/{offer['id']}"
    call, versions, clarifications, decision, agreement = await asyncio.gather(
        _call(app, user, str(offer["call_id"])),
        app.gateway.get(f"{base}/versions", token, params={"limit": 50}),
        app.gateway.get(f"{base}/clarifications", token, params={"limit": 50}),
        _optional(app.gateway.get(f"{base}/decision", token)),
        _optional(app.gateway.get(f"{base}/agreement", token)),
    )
    notice = next((k for k in ("submitted", "withdrawn", "saved", "answered") if k in request.query_params), "")
    return app.pages.render(
        request,
        "offer_overview.html",
        status_code=status_code,
        offer=offer,
        call=call,
        left=_left(call),
        open=window_open(call),
        versions=versions["items"],
        clarifications=clarifications["items"],
        decision=decision,
        agreement=agreement,
        admin=user.provider_admin,
        errors=errors,
        refusal=refusal,
        entered=entered or {},
        notice=notice,
        STATE_NAMES=STATE_NAMES,
    )


@router.post("/institution/offers/{offer_id}/clarifications/{clarification_id}/answer", response_class=HTMLResponse)
async def answer(
    request: Request, app: App, user: InstitutionUser, offer_id: uuid.UUID, clarification_id: uuid.UUID, form: Form
) -> Response:
    text = (form.get("answer") or "").strip()
    path = f"{CALLS}/offers/{offer_id}/clarifications/{clarification_id}/answer"
    field = f"answer-{clarification_id}"
    errors: Errors = {}
    refusal = ""
    if not text:
        errors[field] = N_("Write the answer")
    else:
        try:
            await app.gateway.post(path, user.access_token, {"answer": text})
        except ApiError as error:
            if error.status not in (409, 422):
                raise
            if error.status == 409:
                refusal = conflict_message(error)
            else:
                errors[field] = next(iter(_page_errors(error.violations).values()), rule_message(""))
    if not errors and not refusal:
        return RedirectResponse(f"/institution/offers/{offer_id}?answered=1", status_code=303)
    offer = await _offer(app, user, offer_id)
    status = 409 if refusal else 422
    return await _overview_page(request, app, user, offer, errors, refusal, {field: text}, status_code=status)


@router.get("/institution/offers/{offer_id}/agreement/document")
async def agreement_document(request: Request, app: App, user: InstitutionUser, offer_id: uuid.UUID) -> Response:
    """The signed agreement, as calls keeps it (served from here: the browser holds no API token)."""
    response = await app.gateway.raw(f"{CALLS}/offers/{offer_id}/agreement/document", user.access_token)
    media_type = response.headers.get("content-type", "application/octet-stream")
    disposition = response.headers.get("content-disposition", "attachment")
    return Response(response.content, media_type=media_type, headers={"Content-Disposition": disposition})
