"""The agency's calls and their timelines, the evaluation of offers per criterion with clarifications, the four-eyes
decisions and the agreements.

Every figure and every rule is calls': the phase of a call, who may assign, evaluate or decide (an offer's evaluator
does not decide it: calls refuses, and the page does not offer the form), when an evaluation is complete. The page
only shows them, and says what calls refused beside the field it names."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from web.gateway import ApiError
from web.messages import N_, RULES, rule_message
from web.pages.common import AgencyUser, App, Form, PageNumber, Refused, Upload, agency, file_from_api, page_count
from web.session import User

router = APIRouter(dependencies=[Depends(agency)])
CALLS = "/api/calls"
CATALOG = "/api/catalog"
DIRECTORY = "/auth/directory/users"
PAGE_SIZE = 10
PHASES = ("announced", "applications", "offers", "evaluation", "decision", "agreements", "delivery", "closed")
OFFER_STATES = ("draft", "submitted", "withdrawn", "under_evaluation", "approved", "rejected")
RESULTS = ("meets", "does_not_meet", "needs_clarification")
OUTCOMES = ("approved", "rejected")
REASON_CODES = {
    "does_not_meet": N_("The criterion is not met"),
    "insufficient_evidence": N_("The documents do not show it"),
    "not_clarified": N_("The clarification did not settle it"),
}
SORTS = ("created", "-updated", "state", "institution")
TIMELINE_DATES = (
    "applications_open_on",
    "applications_close_on",
    "evaluation_starts_on",
    "evaluation_ends_on",
    "decision_on",
    "agreements_from",
    "publication_from",
    "delivery_ends_on",
)
TIMELINE_MINUTES = ("offers_open_at", "offers_deadline_at")
CALL_LISTS = ("institution_criteria", "programme_criteria", "learning_needs", "title")
MAX_UPLOAD = 8 * 1024 * 1024
SIGNED_TYPES = {".pdf": "application/pdf", ".edoc": "application/vnd.etsi.asic-e+zip",
                ".asice": "application/vnd.etsi.asic-e+zip"}  # fmt: skip


# --------------------------------------------------------------------------- calls


@router.get("/agency/calls", response_class=HTMLResponse)
async def calls(request: Request, app: App, user: AgencyUser, page: PageNumber = 1) -> HTMLResponse:
    params = {"limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE}
    found = await app.gateway.get(f"{CALLS}/calls", user.access_token, params=params)
    return app.pages.render(
        request,
        "evaluation_calls.html",
        found=found,
        page=page,
        pages=page_count(found["total"], PAGE_SIZE),
        page_link=lambda n: f"/agency/calls?page={n}",
        created=request.query_params.get("created", ""),
    )


@router.get("/agency/calls/new", response_class=HTMLResponse)
async def new_call(request: Request, app: App, user: AgencyUser) -> HTMLResponse:
    _admin_only(user)
    return _call_form(request, app, {"max_programmes_per_institution": "3"}, {})


@router.post("/agency/calls/new", response_class=HTMLResponse)
async def open_call(request: Request, app: App, user: AgencyUser, form: Form) -> Response:
    _admin_only(user)
    body, errors = call_body(form)
    if not errors:
        try:
            opened = await app.gateway.post(f"{CALLS}/calls", user.access_token, body)
        except ApiError as error:
            if error.status not in (409, 422):
                raise
            errors = _call_errors(error)
        else:
            return RedirectResponse(f"/agency/calls/{opened['id']}?created=1", status_code=303)
    return _call_form(request, app, form, errors, status_code=422)


def _call_form(
    request: Request, app: App, values: Mapping[str, str], errors: Mapping[str, str], status_code: int = 200
) -> HTMLResponse:
    return app.pages.render(
        request,
        "evaluation_call_new.html",
        status_code=status_code,
        values=values,
        errors=messages(errors),
        dates=TIMELINE_DATES,
        minutes=TIMELINE_MINUTES,
    )


def call_body(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The call as calls takes it, from the form; what the page itself cannot read (a criterion line without its
    rule, a parameter without its value) is named beside its field, and calls judges the rest."""
    errors: dict[str, str] = {}
    criteria: dict[str, list[dict[str, Any]]] = {}
    for name in ("institution_criteria", "programme_criteria"):
        try:
            criteria[name] = criteria_of(form.get(name, ""))
        except ValueError:
            errors[name] = "criterion_line"
    try:
        needs = needs_of(form.get("learning_needs", ""))
    except ValueError:
        errors["learning_needs"] = "need_line"
        needs = []
    title = {lang: form.get(f"title_{lang}", "").strip() for lang in ("lv", "en")}
    body: dict[str, Any] = {
        "code": form.get("code", "").strip(),
        "title": {lang: text for lang, text in title.items() if text},
        "project_code": form.get("project_code", "").strip(),
        "timeline": {name: form.get(name, "").strip() or None for name in (*TIMELINE_DATES, *TIMELINE_MINUTES)},
        "max_programmes_per_institution": _int(form.get("max_programmes_per_institution", "")),
        **criteria,
        "learning_needs": needs,
    }
    if needs and form.get("needs_approved_on", "").strip():
        body["needs_approved_on"] = form["needs_approved_on"].strip()
    if not title["lv"]:
        errors["title_lv"] = "missing"
    return body, errors


def criteria_of(text: str) -> list[dict[str, Any]]:
    """One criterion a line: its code, its rule, then its parameters as `name=value` (a number, or several values
    separated by `|`), e.g. `I2 registered_years years=3` or `P3 form forms=in_person|remote`."""
    found = []
    for line in _lines(text):
        code, rule, *params = line.split()
        values: dict[str, Any] = {}
        for param in params:
            name, sep, value = param.partition("=")
            if not sep or not name or not value:
                raise ValueError(param)
            values[name] = int(value) if value.isdigit() else value.split("|") if "|" in value else value
        found.append({"code": code, "rule": rule, "params": values})
    return found


def needs_of(text: str) -> list[dict[str, Any]]:
    """One learning need a line: `CODE | title in Latvian | title in English` (the English one may be left out)."""
    found = []
    for line in _lines(text):
        code, *titles = [part.strip() for part in line.split("|")]
        if not code or not titles or not titles[0] or len(titles) > 2:
            raise ValueError(line)
        found.append({"code": code, "title": dict(zip(("lv", "en"), [t for t in titles if t], strict=False))})
    return found


def _lines(text: str) -> list[str]:
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
    for line in lines:
        if len(line.split()) < 2 and "|" not in line:
            raise ValueError(line)
    return lines


def _call_errors(error: ApiError) -> dict[str, str]:
    """Calls' violations by the form's field: a criterion's or a need's part by its list, a title by its language."""
    if error.status == 409:
        return {"code": "code_taken"}
    errors: dict[str, str] = {}
    for violation in error.violations:
        field = str(violation.get("field", ""))
        head = field.split(".", 1)[0].split("[", 1)[0]
        name = head if head in CALL_LISTS else field.rsplit(".", 1)[-1]
        name = "title_lv" if name == "title" else name
        errors.setdefault(name or "form", str(violation.get("rule", "")))
    return errors


def _int(value: str) -> int | str:
    return int(value) if value.strip().isdigit() and len(value.strip()) < 4 else value.strip()


@router.get("/agency/calls/{call_id}", response_class=HTMLResponse)
async def call(
    request: Request,
    app: App,
    user: AgencyUser,
    call_id: uuid.UUID,
    state: Annotated[str, Query(max_length=30)] = "",
    sort: Annotated[str, Query(max_length=30)] = "created",
    page: PageNumber = 1,
) -> HTMLResponse:
    token = user.access_token
    found = await app.gateway.get(f"{CALLS}/calls/{call_id}", token)
    state = state if state in OFFER_STATES else ""
    sort = sort if sort in SORTS else "created"
    params: dict[str, Any] = {"limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE, "sort": sort}
    if state:
        params["state"] = state
    offers = await app.gateway.get(f"/api/calls/agency/calls/{call_id}/offers", token, params=params)
    progress = await app.gateway.get(f"{CALLS}/agency/calls/{call_id}/evaluation-progress", token, {"limit": 100})
    officers = [p["evaluator_id"] for p in progress["items"]] + [o["evaluator_id"] or "" for o in offers["items"]]
    return app.pages.render(
        request,
        "evaluation_call.html",
        call=found,
        timeline=timeline(found),
        per_state=await app.gateway.get(f"{CALLS}/agency/calls/{call_id}/offers-per-state", token),
        progress=progress,
        names=await names(app, token, officers),
        offers=offers,
        state=state,
        sort=sort,
        states=OFFER_STATES,
        sorts=SORTS,
        page=page,
        pages=page_count(offers["total"], PAGE_SIZE),
        page_link=lambda n: f"/agency/calls/{call_id}?{urlencode({'state': state, 'sort': sort, 'page': n})}",
        created=request.query_params.get("created", ""),
    )


def timeline(call: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The call's phases in order, each with when it starts and ends (as calls states them) and whether it is the
    current one, has passed or is to come."""
    t = call["timeline"]
    steps = [
        ("applications", N_("Learners apply"), t["applications_open_on"], t["applications_close_on"], "day"),
        ("offers", N_("Offer window"), t["offers_open_at"], t["offers_deadline_at"], "minute"),
        ("evaluation", N_("Evaluation"), t["evaluation_starts_on"], t["evaluation_ends_on"], "day"),
        ("decision", N_("Decision"), t["decision_on"], None, "day"),
        ("agreements", N_("Agreements"), t["agreements_from"], None, "day"),
        ("delivery", N_("Publication and delivery"), t["publication_from"], t["delivery_ends_on"], "day"),
    ]
    current = PHASES.index(call["phase"])
    return [
        {
            "phase": phase,
            "label": label,
            "start": start,
            "end": end,
            "kind": kind,
            "status": "current"
            if PHASES.index(phase) == current
            else "past"
            if PHASES.index(phase) < current
            else "next",
        }
        for phase, label, start, end, kind in steps
    ]


def _status(index: int, current: int) -> str:
    return "current" if index == current else "past" if index < current else "next"


async def names(app: App, token: str, subjects: Iterable[str]) -> dict[str, str]:
    """The display names of agency users by subject (the identity provider's directory); one unknown stays nameless."""
    wanted = list(dict.fromkeys(s for s in subjects if s))
    if not wanted:
        return {}
    with contextlib.suppress(ApiError):
        found = await app.gateway.get(DIRECTORY, token, params=[("subject", s) for s in wanted])
        return {u["subject"]: u["display_name"] for u in found["users"]}
    return {}


@router.get("/agency/calls/{call_id}/decisions.{kind}")
async def decisions_export(app: App, user: AgencyUser, call_id: uuid.UUID, kind: str) -> Response:
    """The call's decisions as calls exports them, streamed with its type and file name."""
    if kind not in ("csv", "xlsx"):
        return Response(status_code=404)
    answer = await app.gateway.raw(f"{CALLS}/agency/calls/{call_id}/decisions.{kind}", user.access_token)
    return file_from_api(answer)


# --------------------------------------------------------------------------- the evaluation workspace


@router.get("/agency/offers/{offer_id}", response_class=HTMLResponse)
async def workspace(request: Request, app: App, user: AgencyUser, offer_id: uuid.UUID) -> HTMLResponse:
    return await _workspace(request, app, user, offer_id, {}, {})


async def _workspace(
    request: Request,
    app: App,
    user: User,
    offer_id: uuid.UUID,
    errors: Mapping[str, str],
    entered: Mapping[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    token = user.access_token
    offer = await app.gateway.get(f"{CALLS}/offers/{offer_id}", token)
    found = await app.gateway.get(f"{CALLS}/calls/{offer['call_id']}", token)
    evaluation = await app.gateway.get(f"{CALLS}/offers/{offer_id}/evaluation", token)
    asked = await app.gateway.get(f"{CALLS}/offers/{offer_id}/clarifications", token, params={"limit": 100})
    findings = {f["criterion"]: f for f in evaluation["findings"]}
    return app.pages.render(
        request,
        "evaluation_offer.html",
        status_code=status_code,
        offer=offer,
        call=found,
        criteria=criteria_details(found),
        evaluation=evaluation,
        findings=findings,
        clarifications=asked["items"],
        institution=await _institution(app, token, offer["institution_id"]),
        programmes=await _programmes(app, token, [p["programme_id"] for p in offer["content"]["programmes"]]),
        names=await names(app, token, [evaluation["evaluator_id"] or ""]),
        evaluator=evaluation["evaluator_id"] == user.subject,
        decision=await _optional(app, token, f"{CALLS}/offers/{offer_id}/decision"),
        agreement=await _optional(app, token, f"{CALLS}/offers/{offer_id}/agreement"),
        errors=messages(errors),
        entered=entered,
        results=RESULTS,
        notice=request.query_params.get("done", ""),
    )


def criteria_details(call: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The call's criteria by code, each with its kind (of the institution or of the programmes)."""
    found = {c["code"]: c | {"kind": "institution"} for c in call["institution_criteria"]}
    return found | {c["code"]: c | {"kind": "programme"} for c in call["programme_criteria"]}


async def _institution(app: App, token: str, institution_id: str) -> dict[str, Any]:
    with contextlib.suppress(ApiError):
        found: dict[str, Any] = await app.gateway.get(f"{CATALOG}/providers/{institution_id}", token)
        return found
    return {"id": institution_id}


async def _programmes(app: App, token: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The offered programmes as catalog has them (draft or published), for their titles and details."""
    found: dict[str, dict[str, Any]] = {}
    for programme_id in ids:
        with contextlib.suppress(ApiError):
            found[programme_id] = await app.gateway.get(f"{CATALOG}/programmes/{programme_id}", token)
    return found


async def _optional(app: App, token: str, path: str) -> dict[str, Any] | None:
    """A decision or an agreement, or None while there is none (calls' 404)."""
    try:
        found: dict[str, Any] = await app.gateway.get(path, token)
    except ApiError as error:
        if error.status == 404:
            return None
        raise
    return found


@router.get("/agency/offers/{offer_id}/attachments/{attachment_id}")
async def attachment(app: App, user: AgencyUser, offer_id: uuid.UUID, attachment_id: uuid.UUID) -> Response:
    path = f"{CALLS}/offers/{offer_id}/attachments/{attachment_id}"
    about = await app.gateway.get(path, user.access_token)
    answer = await app.gateway.raw(f"{path}/content", user.access_token)
    name = about.get("filename") or f"{about['kind']}-{attachment_id}"
    return file_from_api(answer, disposition=_disposition(name))


def _disposition(filename: str) -> str:
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


@router.post("/agency/offers/{offer_id}/evaluator", response_class=HTMLResponse)
async def assign(request: Request, app: App, user: AgencyUser, offer_id: uuid.UUID, form: Form) -> Response:
    """The officer by their user name in the identity provider's directory (never an opaque id typed in)."""
    username = form.get("username", "").strip()
    if not username:
        return await _workspace(request, app, user, offer_id, {"username": "missing"}, form, 422)
    try:
        officer = await app.gateway.get(DIRECTORY, user.access_token, params={"username": username})
    except ApiError as error:
        if error.status != 404:
            raise
        return await _workspace(request, app, user, offer_id, {"username": "unknown_user"}, form, 422)
    body = {"evaluator_id": officer["subject"]}
    return await _send(request, app, user, offer_id, "PUT", "evaluator", body, form, "assigned")


@router.post("/agency/offers/{offer_id}/findings", response_class=HTMLResponse)
async def record_findings(request: Request, app: App, user: AgencyUser, offer_id: uuid.UUID, form: Form) -> Response:
    findings = findings_of(form)
    if not findings:
        return await _workspace(request, app, user, offer_id, {"findings": "no_finding"}, form, 422)
    return await _send(request, app, user, offer_id, "PUT", "findings", {"findings": findings}, form, "findings")


def findings_of(form: Mapping[str, str]) -> list[dict[str, str]]:
    """A finding for every criterion whose result is chosen (`result_<code>`), with its note (`note_<code>`)."""
    found = []
    for key, value in form.items():
        if key.startswith("result_") and value:
            code = key.removeprefix("result_")
            note = form.get(f"note_{code}", "").replace("\r\n", "\n").strip()
            found.append({"criterion": code, "result": value, "note": note})
    return found


@router.post("/agency/offers/{offer_id}/clarifications", response_class=HTMLResponse)
async def ask(request: Request, app: App, user: AgencyUser, offer_id: uuid.UUID, form: Form) -> Response:
    posted = await request.form()
    criteria = [c for c in posted.getlist("criteria") if isinstance(c, str)]
    question = form.get("question", "").replace("\r\n", "\n").strip()
    errors = {k: "missing" for k, v in (("criteria", criteria), ("question", question)) if not v}
    entered = {**form, "criteria": criteria}
    if errors:
        return await _workspace(request, app, user, offer_id, errors, entered, 422)
    body = {"criteria": criteria, "question": question}
    return await _send(request, app, user, offer_id, "POST", "clarifications", body, entered, "asked")


async def _send(
    request: Request,
    app: App,
    user: User,
    offer_id: uuid.UUID,
    method: str,
    what: str,
    body: dict[str, Any],
    entered: Mapping[str, Any],
    done: str,
) -> Response:
    path = f"{CALLS}/offers/{offer_id}/{what}"
    try:
        if method == "PUT":
            await app.gateway.put(path, user.access_token, body)
        else:
            await app.gateway.post(path, user.access_token, body)
    except ApiError as error:
        if error.status not in (403, 409, 422):
            raise
        return await _workspace(request, app, user, offer_id, _refusal(error, what), entered, error.status)
    return RedirectResponse(f"/agency/offers/{offer_id}?done={done}", status_code=303)


def _refusal(error: ApiError, what: str) -> dict[str, str]:
    """Calls' refusal beside the form it is about: a violation by its field; a 403 (not the offer's evaluator, not
    an administrator) or a 409 (the phase, the offer's state) on the form as a whole."""
    if error.status == 403:
        return {what: f"refused_{what}"}
    if error.status == 409:
        return {what: f"not_now_{what}"}
    errors: dict[str, str] = {}
    for violation in error.violations:
        field = str(violation.get("field", ""))
        name = what if field.startswith(what) or not field else field.rsplit(".", 1)[-1]
        errors.setdefault(name, str(violation.get("rule", "")))
    return errors or {what: "invalid"}


# --------------------------------------------------------------------------- the decision (four eyes)


@router.get("/agency/offers/{offer_id}/decision", response_class=HTMLResponse)
async def decision_form(request: Request, app: App, user: AgencyUser, offer_id: uuid.UUID) -> HTMLResponse:
    state = await _decision_state(app, user, offer_id)
    entered = {"outcome": "", "reasons": _suggested_reasons(state)}
    return _decision_page(request, app, state, entered, {})


@router.post("/agency/offers/{offer_id}/decision", response_class=HTMLResponse)
async def decide(request: Request, app: App, user: AgencyUser, offer_id: uuid.UUID, form: Form) -> Response:
    """First the confirmation page (what the decision changes), then, confirmed, calls' decision."""
    state = await _decision_state(app, user, offer_id)
    outcome = form.get("outcome", "")
    reasons = reasons_of(form, state["criteria"])
    entered = {"outcome": outcome, "reasons": {r["criterion"]: r for r in reasons}}
    errors = _decision_errors(outcome, reasons)
    if form.get("confirmed") == "change":
        return _decision_page(request, app, state, entered, {})
    if errors:
        return _decision_page(request, app, state, entered, errors, status_code=422)
    body: dict[str, Any] = {"outcome": outcome, "reasons": reasons if outcome == "rejected" else []}
    if form.get("confirmed") != "yes":
        return app.pages.render(request, "evaluation_decision_confirm.html", **state, body=body, codes=REASON_CODES)
    try:
        await app.gateway.post(f"{CALLS}/offers/{offer_id}/decision", user.access_token, body)
    except ApiError as error:
        if error.status not in (403, 409, 422):
            raise
        return _decision_page(request, app, state, entered, _refusal(error, "decision"), status_code=error.status)
    return RedirectResponse(f"/agency/offers/{offer_id}?done=decided#decision", status_code=303)


async def _decision_state(app: App, user: User, offer_id: uuid.UUID) -> dict[str, Any]:
    token = user.access_token
    offer = await app.gateway.get(f"{CALLS}/offers/{offer_id}", token)
    found = await app.gateway.get(f"{CALLS}/calls/{offer['call_id']}", token)
    evaluation = await app.gateway.get(f"{CALLS}/offers/{offer_id}/evaluation", token)
    return {
        "offer": offer,
        "call": found,
        "evaluation": evaluation,
        "criteria": evaluation["criteria"],
        "details": criteria_details(found),
        "findings": {f["criterion"]: f for f in evaluation["findings"]},
        "institution": await _institution(app, token, offer["institution_id"]),
        "decision": await _optional(app, token, f"{CALLS}/offers/{offer_id}/decision"),
        "evaluator": evaluation["evaluator_id"] == user.subject,
        "admin": user.agency_admin,
    }


def _suggested_reasons(state: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """For a rejection: a reason for each criterion the evaluator found not met, its note as the text to start from."""
    return {
        code: {"criterion": code, "code": "does_not_meet", "text": finding["note"]}
        for code, finding in state["findings"].items()
        if finding["result"] == "does_not_meet"
    }


def reasons_of(form: Mapping[str, str], criteria: Sequence[str]) -> list[dict[str, str]]:
    """A reason for every criterion whose text is written (`reason_<code>`), with its code (`code_<code>`)."""
    reasons = []
    for criterion in criteria:
        text = form.get(f"reason_{criterion}", "").replace("\r\n", "\n").strip()
        if text:
            code = form.get(f"code_{criterion}", "")
            reasons.append(
                {"criterion": criterion, "code": code if code in REASON_CODES else "does_not_meet", "text": text}
            )
    return reasons


def _decision_errors(outcome: str, reasons: Sequence[Mapping[str, str]]) -> dict[str, str]:
    if outcome not in OUTCOMES:
        return {"outcome": "choose_outcome"}
    if outcome == "rejected" and not reasons:
        return {"reasons": "reason_needed"}
    return {}


def _decision_page(
    request: Request,
    app: App,
    state: Mapping[str, Any],
    entered: Mapping[str, Any],
    errors: Mapping[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    return app.pages.render(
        request,
        "evaluation_decision.html",
        status_code=status_code,
        **state,
        entered=entered,
        errors=messages(errors),
        codes=REASON_CODES,
    )


# --------------------------------------------------------------------------- the cooperation agreement


@router.get("/agency/offers/{offer_id}/agreement", response_class=HTMLResponse)
async def agreement(request: Request, app: App, user: AgencyUser, offer_id: uuid.UUID) -> HTMLResponse:
    return await _agreement_page(request, app, user, offer_id, {}, {})


@router.post("/agency/offers/{offer_id}/agreement", response_class=HTMLResponse)
async def make_agreement(request: Request, app: App, user: AgencyUser, offer_id: uuid.UUID, form: Form) -> Response:
    body = {name: form.get(name, "").strip() for name in ("number", "valid_from", "valid_until")}
    errors = {name: "missing" for name, value in body.items() if not value}
    if not errors:
        try:
            await app.gateway.post(f"{CALLS}/offers/{offer_id}/agreement", user.access_token, body)
        except ApiError as error:
            if error.status not in (403, 409, 422):
                raise
            errors = {"number": "number_taken"} if error.status == 409 and "is taken" in str(error.body) else {}
            errors = errors or _refusal(error, "agreement")
        else:
            return RedirectResponse(f"/agency/offers/{offer_id}/agreement?done=recorded", status_code=303)
    return await _agreement_page(request, app, user, offer_id, errors, body, status_code=422)


@router.post("/agency/offers/{offer_id}/agreement/signature", response_class=HTMLResponse)
async def sign_agreement(request: Request, app: App, user: AgencyUser, offer_id: uuid.UUID, posted: Upload) -> Response:
    """The signed agreement, uploaded with the page's form (multipart), sent to calls as its body; calls judges the
    signature and publishes the programmes."""
    upload = posted.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _agreement_page(request, app, user, offer_id, {"file": "choose_file"}, {}, status_code=422)
    content = await upload.read(MAX_UPLOAD + 1)
    filename = upload.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:255]
    media_type = _media_type(filename, upload.content_type)
    path = f"{CALLS}/offers/{offer_id}/agreement/signature"
    try:
        await app.gateway.upload(path, user.access_token, content, media_type, params={"filename": filename})
    except ApiError as error:
        if error.status not in (403, 404, 409, 422):
            raise
        errors = {"file": "not_now_file"} if error.status in (404, 409) else _refusal(error, "file")
        return await _agreement_page(request, app, user, offer_id, errors, {}, status_code=error.status)
    return RedirectResponse(f"/agency/offers/{offer_id}/agreement?done=signed", status_code=303)


def _media_type(filename: str, declared: str | None) -> str:
    """What calls takes the file as: its type by its name's ending (a browser often sends an .edoc as octet-stream)."""
    ending = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return SIGNED_TYPES.get(ending) or declared or "application/octet-stream"


async def _agreement_page(
    request: Request,
    app: App,
    user: User,
    offer_id: uuid.UUID,
    errors: Mapping[str, str],
    entered: Mapping[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    token = user.access_token
    offer = await app.gateway.get(f"{CALLS}/offers/{offer_id}", token)
    found = await app.gateway.get(f"{CALLS}/calls/{offer['call_id']}", token)
    made = await _optional(app, token, f"{CALLS}/offers/{offer_id}/agreement")
    programme_ids = (made or {}).get("programme_ids") or offer["content"]["terms"]["programme_ids"]
    return app.pages.render(
        request,
        "evaluation_agreement.html",
        status_code=status_code,
        offer=offer,
        call=found,
        agreement=made,
        decision=await _optional(app, token, f"{CALLS}/offers/{offer_id}/decision"),
        institution=await _institution(app, token, offer["institution_id"]),
        programmes=await _programmes(app, token, [str(p) for p in programme_ids]),
        errors=messages(errors),
        entered=entered,
        notice=request.query_params.get("done", ""),
    )


@router.get("/agency/offers/{offer_id}/agreement/document")
async def agreement_document(app: App, user: AgencyUser, offer_id: uuid.UUID) -> Response:
    answer = await app.gateway.raw(f"{CALLS}/offers/{offer_id}/agreement/document", user.access_token)
    return file_from_api(answer)


def messages(errors: Mapping[str, str]) -> dict[str, str]:
    """What the page says beside each field: this slice's message for the rule, else the platform-wide one."""
    return {field: RULES.get(f"evaluation:{rule}") or rule_message(rule) for field, rule in errors.items()}


def _admin_only(user: User) -> None:
    if not user.agency_admin:
        raise Refused("only an agency administrator opens a call")
