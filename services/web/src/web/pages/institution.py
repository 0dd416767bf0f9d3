"""An education institution's own pages: its registration, users, implementation locations, programmes (costed live
from the coefficient table) and groups.

Which institution is the user's, catalog says from the token (`/providers/me`): no page takes it from the request.
Catalog decides what each role may do and refuses the rest; the pages only do not offer an administrator's actions
to staff."""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Annotated, Any, ParamSpec, cast

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from web.gateway import ApiError
from web.messages import N_, OTHER, RULES, rule_message
from web.pages.common import (
    App,
    Form,
    InstitutionUser,
    PageNumber,
    Parts,
    Upload,
    chosen_page_link,
    institution,
    page_count,
    refusal_errors,
)
from web.rendering import language_of_request
from web.session import CSRF_FIELD, User

router = APIRouter(dependencies=[Depends(institution)])
API = "/api/catalog"
PAGE_SIZE = 20
MAX_UPLOAD_BYTES = 8 * 1024 * 1024
Mine = dict[str, Any]
Errors = dict[str, str]
P = ParamSpec("P")

PROGRAMME_STATES = ("draft", "published", "withdrawn")
PROGRAMME_SORTS = ("-registered", "registered", "title", "cost", "-cost")
GROUP_STATES = ("scheduled", "cancelled")
GROUP_SORTS = ("start", "-start", "-free_places")
FORMS = ("in_person", "remote", "hybrid")
TYPES = ("professional_development", "vocational_further_education", "non_formal")
SYSTEMS = ("windows", "macos", "linux", "chromeos", "any")
LANGUAGES = ("lv", "en", "ru")

FIELD_RULES: dict[tuple[str, str], str] = {
    ("register_number", "format"): N_("Enter the 10 digits of the register number"),
    ("register_number", "registered"): N_("The register of education institutions has no institution with this number"),
    ("name", "matches_register"): N_("Enter the institution's name as the register of education institutions has it"),
    ("admin_email", "format"): N_("Enter an e-mail address like anna@example.lv"),
    ("licence_number", "registered"): N_("Your institution has no licensed programme with this number"),
    ("licence_date", "matches_register"): N_("Enter the licence's date as the register has it"),
    ("total_hours", "matches_licence"): N_("Enter the total hours of the licensed curriculum"),
    ("hours_split", "matches_licence"): N_("Split the hours into theory and practice as the licensed curriculum does"),
    ("qualifications", "known"): N_("Choose one or more of the qualifications listed"),
    ("language", "format"): N_("Choose the language of studies"),
    ("capacity", "range"): N_("Enter from 1 to 500 places"),
    ("username", "one_of"): N_("Enter the user name or the e-mail address, not both"),
    ("statement", "uploaded"): N_("Upload the signed statement again"),
    ("curriculum", "uploaded"): N_("Upload the curriculum again"),
}
"""What a rule means on this field, where the rule's name alone says too little (`format`, `registered`)."""
GENERIC_RULES: dict[str, str] = {
    "required": N_("This field is required"),
    "missing": N_("This field is required"),
    "max_length": N_("This text is too long"),
    "format": N_("Check the format of this field"),
    "date": N_("Enter a real date"),
    "int": N_("Enter a whole number"),
    "decimal": N_("Enter a number"),
    "uuid": N_("Choose one of the options listed"),
    "enum": N_("Choose one of the options listed"),
    "list": N_("Choose one or more of the options listed"),
}
"""Catalog's generic rules, and pydantic's type errors by their kind (`date_type`, `int_parsing`...)."""
FIELD_NAMES = {
    "file": "statement",
    "statement_document_id": "statement",
    "curriculum_document_id": "curriculum",
    "email": "who",
    "username": "who",
    "title.lv": "title_lv",
    "title.en": "title_en",
    "admin.name": "admin_name",
    "admin.email": "admin_email",
}
"""The API's field (by its whole path) as the page's form names it."""


def message_for(field: str, rule: str) -> str:
    """What the page says of a rule broken on a field, in the order: this field's own meaning of the rule, the
    platform's message for the rule, the generic one of its kind."""
    if (field, rule) in FIELD_RULES:
        return FIELD_RULES[(field, rule)]
    if rule in RULES:
        return RULES[rule]
    kind = rule.split("_", 1)[0] if rule.endswith(("_type", "_parsing")) or rule.startswith("date_") else rule
    return GENERIC_RULES.get(kind, OTHER)


def page_errors(violations: Sequence[Mapping[str, Any]], upload: str = "") -> Errors:
    """The API's violations as messages by the page's field names (the first for each field). `upload`: the field
    a document's own `file` refusal belongs to."""
    errors: Errors = {}
    for violation in violations:
        api_field = str(violation.get("field", ""))
        if api_field.split(".")[0] in ("location_ids", "qualifications", "operating_systems"):
            api_field = api_field.split(".")[0]  # an item of a list: beside the list
        field = upload if api_field == "file" and upload else FIELD_NAMES.get(api_field, api_field.replace(".", "_"))
        errors.setdefault(field or "form", message_for(field, str(violation.get("rule", ""))))
    return errors


# --------------------------------------------------------------------------- what every page asks first


async def my_institution(app: App, user: User) -> Mine | None:
    """The institution the user acts for and their membership, or None (a 404: they act for none)."""
    try:
        mine: Mine = await app.gateway.get(f"{API}/providers/me", user.access_token)
    except ApiError as error:
        if error.status == 404:
            return None
        raise
    return mine


async def approved_institution(request: Request, app: App, user: User) -> Mine:
    """The user's institution once approved; otherwise the page says why there is nothing here yet."""
    mine = await my_institution(app, user)
    if mine is None or mine["institution"]["status"] != "approved":
        raise NotYet(mine)
    return mine


class NotYet(Exception):
    """The user's institution is not registered or not approved: the pages of its work are not open yet."""

    def __init__(self, mine: Mine | None) -> None:
        super().__init__("not approved")
        self.mine = mine


def not_yet_page(request: Request, app: App, mine: Mine | None) -> HTMLResponse:
    return app.pages.render(request, "institution_not_yet.html", status_code=409 if mine else 404, mine=mine)


def opens_when_approved(handler: Callable[P, Awaitable[Response]]) -> Callable[P, Awaitable[Response]]:
    """A page of the institution's work: where `approved_institution` finds none approved yet, the page says why
    instead (the handler is called by name: FastAPI passes `request` and `app` as keywords)."""

    @functools.wraps(handler)
    async def page(*args: P.args, **kwargs: P.kwargs) -> Response:
        try:
            return await handler(*args, **kwargs)
        except NotYet as not_yet:
            return not_yet_page(cast(Request, kwargs["request"]), cast(Parts, kwargs["app"]), not_yet.mine)

    return page


def is_admin(mine: Mine) -> bool:
    return bool(mine["membership"]["role"] == "provider_admin" and mine["membership"]["active"])


def base(mine: Mine) -> str:
    return f"{API}/providers/{mine['institution']['id']}"


async def listed(app: App, path: str, token: str, params: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """A page of one of catalog's institution lists and how many match in all (`X-Total-Count`)."""
    response = await app.gateway.raw(path, token, params=params)
    items: list[dict[str, Any]] = response.json()
    return items, int(response.headers.get("x-total-count", len(items)))


def text_fields(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str) and k != CSRF_FIELD}


async def uploaded(
    app: App, user: User, form: FormData, field: str, purpose: str, kept: str
) -> tuple[str, dict[str, Any] | None, Errors]:
    """The document of a form's file field uploaded to catalog (its id, its facts), or the one uploaded before
    (`kept`, a hidden field: a browser does not send a file again); the refusal beside the field."""
    file = form.get(field)
    if not isinstance(file, UploadFile) or not file.filename:
        return kept, None, ({} if kept else {field: GENERIC_RULES["required"]})
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        return kept, None, {field: rule_message("max_size")}
    params = {"purpose": purpose, "filename": file.filename[-255:]}
    media_type = file.content_type or "application/octet-stream"
    try:
        document: dict[str, Any] = await app.gateway.upload(
            f"{API}/documents", user.access_token, content, media_type, params=params
        )
    except ApiError as error:
        if error.status != 422:
            raise
        return "", None, page_errors(error.violations, upload=field)
    return str(document["id"]), document, {}


def chosen(value: str, allowed: Sequence[str], default: str = "") -> str:
    return value if value in allowed else default


# --------------------------------------------------------------------------- the institution and its registration


@router.get("/institution", response_class=HTMLResponse)
async def overview(request: Request, app: App, user: InstitutionUser) -> HTMLResponse:
    mine = await my_institution(app, user)
    if mine is None:
        return app.pages.render(request, "institution_none.html", admin=user.provider_admin)
    token, found = user.access_token, mine["institution"]
    statement = extract = None
    with contextlib.suppress(ApiError):
        statement = await app.gateway.get(f"{API}/documents/{found['statement_document_id']}", token)
    with contextlib.suppress(ApiError):
        extract = await app.gateway.get(f"{API}/registers/institutions/{found['register_number']}", token)
    return app.pages.render(
        request,
        "institution.html",
        mine=mine,
        admin=is_admin(mine),
        statement=statement,
        extract=extract,
        registered="registered" in request.query_params,
    )


@router.get("/institution/registration", response_class=HTMLResponse)
async def registration(request: Request, app: App, user: InstitutionUser) -> Response:
    if await my_institution(app, user) is not None:
        return RedirectResponse("/institution", status_code=303)
    return _registration_page(request, app, {}, {}, None)


@router.post("/institution/registration", response_class=HTMLResponse)
async def register(request: Request, app: App, user: InstitutionUser, form: Upload) -> Response:
    values = text_fields(form)
    if await my_institution(app, user) is not None:
        return RedirectResponse("/institution", status_code=303)
    document_id, document, errors = await uploaded(
        app, user, form, "statement", "statement", values.get("statement_document_id", "")
    )
    body = {
        "name": values.get("name", ""),
        "register_number": values.get("register_number", "").strip(),
        "legal_address": values.get("legal_address", ""),
        "admin": {"name": values.get("admin_name", ""), "email": values.get("admin_email", "")},
        "statement_document_id": document_id or str(uuid.UUID(int=0)),
    }
    try:
        await app.gateway.post(f"{API}/providers", user.access_token, body)
    except ApiError as error:
        if error.status == 409:
            return RedirectResponse("/institution", status_code=303)
        if error.status != 422:
            raise
        refused = page_errors(error.violations)
        if not document_id:
            refused.pop("statement", None)  # no document yet: its own refusal says why
        errors = {**errors, **refused}
    if errors:
        values = {**values, "statement_document_id": document_id}
        return _registration_page(request, app, values, errors, document, status_code=422)
    return RedirectResponse("/institution?registered=1", status_code=303)


def _registration_page(
    request: Request,
    app: App,
    values: Mapping[str, str],
    errors: Errors,
    document: dict[str, Any] | None,
    status_code: int = 200,
) -> HTMLResponse:
    return app.pages.render(
        request,
        "institution_registration.html",
        status_code=status_code,
        values=values,
        errors=errors,
        document=document,
    )


# --------------------------------------------------------------------------- users


@router.get("/institution/users", response_class=HTMLResponse)
@opens_when_approved
async def users(request: Request, app: App, user: InstitutionUser) -> HTMLResponse:
    mine = await approved_institution(request, app, user)
    notice = next((k for k in ("invited", "removed") if k in request.query_params), "")
    return await _users_page(request, app, user, mine, {}, {}, notice)


@router.post("/institution/users", response_class=HTMLResponse)
@opens_when_approved
async def invite(request: Request, app: App, user: InstitutionUser, form: Form) -> Response:
    mine = await approved_institution(request, app, user)
    who = form.get("who", "").strip()
    body = {"email": who} if "@" in who else {"username": who}
    try:
        await app.gateway.post(f"{base(mine)}/users", user.access_token, body)
    except ApiError as error:
        taken = (
            N_("This person is already a user of your institution")
            if (error.body.get("current") or {}).get("role")
            else N_("This person already acts for another education institution")
        )
        errors = refusal_errors(error, page_errors, {"who": taken}) or {"who": GENERIC_RULES["required"]}
        return await _users_page(request, app, user, mine, form, errors, "", status_code=error.status)
    return RedirectResponse("/institution/users?invited=1", status_code=303)


@router.get("/institution/users/{user_id}/remove", response_class=HTMLResponse)
@opens_when_approved
async def remove_confirmation(request: Request, app: App, user: InstitutionUser, user_id: str) -> HTMLResponse:
    mine = await approved_institution(request, app, user)
    member = await _member(app, user, mine, user_id)
    return app.pages.render(request, "institution_user_remove.html", member=member, mine=mine, error="")


@router.post("/institution/users/{user_id}/remove", response_class=HTMLResponse)
@opens_when_approved
async def remove(request: Request, app: App, user: InstitutionUser, user_id: str, form: Form) -> Response:
    mine = await approved_institution(request, app, user)
    member = await _member(app, user, mine, user_id)
    try:
        await app.gateway.delete(f"{base(mine)}/users/{user_id}", user.access_token)
    except ApiError as error:
        if error.status != 409:
            raise
        error_text = N_("You cannot remove yourself: another administrator must do it")
        page = "institution_user_remove.html"
        return app.pages.render(request, page, status_code=409, member=member, mine=mine, error=error_text)
    return RedirectResponse("/institution/users?removed=1", status_code=303)


async def _member(app: App, user: User, mine: Mine, user_id: str) -> dict[str, Any]:
    members: list[dict[str, Any]] = await app.gateway.get(f"{base(mine)}/users", user.access_token)
    found = next((m for m in members if m["user_id"] == user_id), None)
    if found is None:
        raise HTTPException(404)
    return found


async def _users_page(
    request: Request,
    app: App,
    user: User,
    mine: Mine,
    values: Mapping[str, str],
    errors: Errors,
    notice: str,
    status_code: int = 200,
) -> HTMLResponse:
    members = await app.gateway.get(f"{base(mine)}/users", user.access_token)
    return app.pages.render(
        request,
        "institution_users.html",
        status_code=status_code,
        mine=mine,
        members=members,
        admin=is_admin(mine),
        me=user.subject,
        values=values,
        errors=errors,
        notice=notice,
    )


# --------------------------------------------------------------------------- locations


@router.get("/institution/locations", response_class=HTMLResponse)
@opens_when_approved
async def locations(request: Request, app: App, user: InstitutionUser) -> HTMLResponse:
    mine = await approved_institution(request, app, user)
    return await _locations_page(request, app, user, mine, {}, {}, "added" in request.query_params)


@router.post("/institution/locations", response_class=HTMLResponse)
@opens_when_approved
async def add_location(request: Request, app: App, user: InstitutionUser, form: Form) -> Response:
    mine = await approved_institution(request, app, user)
    try:
        await app.gateway.post(f"{base(mine)}/locations", user.access_token, {"address": form.get("address", "")})
    except ApiError as error:
        taken = {"address": N_("This address is already one of your implementation locations")}
        errors = refusal_errors(error, page_errors, taken)
        return await _locations_page(request, app, user, mine, form, errors, False, status_code=error.status)
    return RedirectResponse("/institution/locations?added=1", status_code=303)


async def _locations_page(
    request: Request,
    app: App,
    user: User,
    mine: Mine,
    values: Mapping[str, str],
    errors: Errors,
    added: bool,
    status_code: int = 200,
) -> HTMLResponse:
    found = await app.gateway.get(f"{base(mine)}/locations", user.access_token)
    extract = None
    with contextlib.suppress(ApiError):
        number = mine["institution"]["register_number"]
        extract = await app.gateway.get(f"{API}/registers/institutions/{number}", user.access_token)
    return app.pages.render(
        request,
        "institution_locations.html",
        status_code=status_code,
        mine=mine,
        locations=found,
        extract=extract,
        admin=is_admin(mine),
        values=values,
        errors=errors,
        added=added,
    )


# --------------------------------------------------------------------------- programmes


@router.get("/institution/programmes", response_class=HTMLResponse)
async def programmes(
    request: Request,
    app: App,
    user: InstitutionUser,
    page: PageNumber = 1,
    status: str = "",
    q: Annotated[str, Query(max_length=200)] = "",
    sort: str = "",
) -> HTMLResponse:
    mine = await my_institution(app, user)
    if mine is None:
        return not_yet_page(request, app, None)
    state, order = chosen(status, PROGRAMME_STATES), chosen(sort, PROGRAMME_SORTS, "-registered")
    params: dict[str, Any] = {"sort": order, "lang": language_of_request(request), "limit": PAGE_SIZE}
    params |= {"offset": (page - 1) * PAGE_SIZE} | ({"status": state} if state else {}) | ({"q": q} if q else {})
    items, total = await listed(app, f"{base(mine)}/programmes", user.access_token, params)
    return app.pages.render(
        request,
        "institution_programmes.html",
        mine=mine,
        admin=is_admin(mine),
        programmes=items,
        total=total,
        page=page,
        pages=page_count(total, PAGE_SIZE),
        page_link=chosen_page_link("/institution/programmes", {"status": state, "q": q, "sort": order}),
        status=state,
        q=q,
        sort=order,
        states=PROGRAMME_STATES,
        sorts=PROGRAMME_SORTS,
    )


@router.get("/institution/programmes/new", response_class=HTMLResponse)
@opens_when_approved
async def new_programme(request: Request, app: App, user: InstitutionUser) -> HTMLResponse:
    mine = await approved_institution(request, app, user)
    return await _programme_form(request, app, user, mine, {}, {}, None)


@router.post("/institution/programmes/new", response_class=HTMLResponse)
@opens_when_approved
async def create_programme(request: Request, app: App, user: InstitutionUser, form: Upload) -> Response:
    """Two buttons: `cost` quotes the cost of what is filled in (the page without its script), `save` registers."""
    values = text_fields(form)
    mine = await approved_institution(request, app, user)
    entered = programme_entered(form)
    if values.get("action") == "cost":
        quote, errors = await cost_quote(app, user, entered)
        return await _programme_form(request, app, user, mine, entered, errors, quote)
    document_id, _, errors = await uploaded(
        app, user, form, "curriculum", "curriculum", values.get("curriculum_document_id", "")
    )
    entered["curriculum_document_id"] = document_id
    body = programme_body(entered)
    try:
        created = await app.gateway.post(f"{base(mine)}/programmes", user.access_token, body)
    except ApiError as error:
        if error.status == 409 and "programme_id" in (error.body.get("current") or {}):
            errors = {**errors, "licence_number": N_("Your institution already has a programme of this licence")}
        elif error.status != 422:
            raise
        else:
            refused = page_errors(error.violations)
            if not document_id:
                refused.pop("curriculum", None)
            errors = {**errors, **refused}
    else:
        if not errors:
            return RedirectResponse(f"/institution/programmes/{created['id']}?created=1", status_code=303)
    quote, _ = await cost_quote(app, user, entered)
    return await _programme_form(request, app, user, mine, entered, errors, quote, status_code=422)


@router.post("/institution/programmes/cost", response_class=HTMLResponse)
async def cost_fragment(request: Request, app: App, user: InstitutionUser, form: Form) -> HTMLResponse:
    """The cost of what the programme form holds, as a fragment the page's script puts in its live region."""
    entered = {"programme_group": form.get("programme_group", ""), "total_hours": form.get("total_hours", "")}
    quote, errors = await cost_quote(app, user, entered)
    return app.pages.render(request, "institution_cost.html", quote=quote, cost_errors=errors)


async def cost_quote(app: App, user: User, entered: Mapping[str, Any]) -> tuple[dict[str, Any] | None, Errors]:
    """Catalog's quote of what is filled in (its rule, the coefficient table in force), or why there is none yet."""
    group, hours = str(entered.get("programme_group") or ""), str(entered.get("total_hours") or "").strip()
    if not group or not hours.isdigit() or len(hours) > 6:
        return None, {}
    body = {"programme_group": group, "total_hours": int(hours)}
    try:
        quote: dict[str, Any] = await app.gateway.post(f"{API}/programmes/cost", user.access_token, body)
    except ApiError as error:
        if error.status != 422:
            raise
        return None, page_errors(error.violations)
    return quote, {}


def programme_entered(form: FormData) -> dict[str, Any]:
    """What the programme form holds, as the page shows it again (lists as lists, lines as they were typed)."""
    text = {k: v.replace("\r\n", "\n") for k, v in form.items() if isinstance(v, str) and k != CSRF_FIELD}
    for name in ("qualifications", "operating_systems", "location_ids"):
        text[name] = [v for v in form.getlist(name) if isinstance(v, str)]  # type: ignore[assignment]
    return text


def _lines(value: Any) -> list[str]:
    return [line.strip() for line in str(value or "").split("\n") if line.strip()]


def _number(value: Any) -> Any:
    """A whole number as the API takes it, or the text as typed (which the API refuses naming its field)."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 9 else text


def programme_body(entered: Mapping[str, Any]) -> dict[str, Any]:
    """The API's programme from the form (no cost: catalog computes it)."""
    return {
        "title": {"lv": entered.get("title_lv", ""), "en": entered.get("title_en", "")},
        "licence_number": entered.get("licence_number", ""),
        "licence_date": entered.get("licence_date", "") or None,
        "thematic_area": entered.get("thematic_area", ""),
        "programme_group": entered.get("programme_group", ""),
        "programme_type": entered.get("programme_type", ""),
        "form": entered.get("form", ""),
        "digcomp_level": _number(entered.get("digcomp_level")),
        "total_hours": _number(entered.get("total_hours")),
        "theory_hours": _number(entered.get("theory_hours")),
        "practice_hours": _number(entered.get("practice_hours")),
        "digital_share_percent": str(entered.get("digital_share_percent") or "").strip().replace(",", ".") or None,
        "qualifications": list(entered.get("qualifications") or []),
        "professional_competences": _lines(entered.get("professional_competences")),
        "learning_outcomes": _lines(entered.get("learning_outcomes")),
        "description": entered.get("description", ""),
        "language": entered.get("language", ""),
        "entry_level": _number(entered.get("entry_level")),
        "prior_knowledge": entered.get("prior_knowledge", ""),
        "equipment": entered.get("equipment", ""),
        "operating_systems": list(entered.get("operating_systems") or []),
        "location_ids": list(entered.get("location_ids") or []),
        "curriculum_document_id": entered.get("curriculum_document_id") or str(uuid.UUID(int=0)),
    }


async def _programme_form(
    request: Request,
    app: App,
    user: User,
    mine: Mine,
    values: Mapping[str, Any],
    errors: Errors,
    quote: dict[str, Any] | None,
    status_code: int = 200,
) -> HTMLResponse:
    token = user.access_token
    table = await app.gateway.get(f"{API}/coefficients")
    qualifications = await app.gateway.get(f"{API}/public/qualifications")
    own_locations = await app.gateway.get(f"{base(mine)}/locations", token)
    extract = None
    with contextlib.suppress(ApiError):
        number = mine["institution"]["register_number"]
        extract = await app.gateway.get(f"{API}/registers/institutions/{number}", token)
    return app.pages.render(
        request,
        "institution_programme_new.html",
        status_code=status_code,
        mine=mine,
        values=values,
        errors=errors,
        quote=quote,
        table=table,
        qualifications=qualifications,
        locations=own_locations,
        extract=extract,
        forms=FORMS,
        types=TYPES,
        systems=SYSTEMS,
        languages=LANGUAGES,
    )


@router.get("/institution/programmes/{programme_id}", response_class=HTMLResponse)
async def programme(request: Request, app: App, user: InstitutionUser, programme_id: uuid.UUID) -> HTMLResponse:
    mine = await my_institution(app, user)
    if mine is None:
        return not_yet_page(request, app, None)
    token = user.access_token
    found = await app.gateway.get(f"{base(mine)}/programmes/{programme_id}", token)
    groups: list[dict[str, Any]] = []
    if mine["institution"]["status"] == "approved":
        groups, _ = await listed(app, f"{base(mine)}/groups", token, {"programme_id": str(programme_id)})
    own_locations = await app.gateway.get(f"{base(mine)}/locations", token)
    qualifications = await app.gateway.get(f"{API}/public/qualifications")
    return app.pages.render(
        request,
        "institution_programme.html",
        mine=mine,
        admin=is_admin(mine),
        programme=found,
        groups=groups,
        locations={loc["id"]: loc for loc in own_locations},
        qualifications={q["code"]: q for q in qualifications},
        created="created" in request.query_params,
    )


# --------------------------------------------------------------------------- groups


@router.get("/institution/groups", response_class=HTMLResponse)
@opens_when_approved
async def groups(
    request: Request, app: App, user: InstitutionUser, page: PageNumber = 1, status: str = "", sort: str = ""
) -> HTMLResponse:
    mine = await approved_institution(request, app, user)
    state, order = chosen(status, GROUP_STATES), chosen(sort, GROUP_SORTS, "start")
    params: dict[str, Any] = {"sort": order, "limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE}
    params |= {"status": state} if state else {}
    items, total = await listed(app, f"{base(mine)}/groups", user.access_token, params)
    titles = await _titles(app, user, mine, {g["programme_id"] for g in items})
    return app.pages.render(
        request,
        "institution_groups.html",
        mine=mine,
        groups=items,
        titles=titles,
        total=total,
        page=page,
        pages=page_count(total, PAGE_SIZE),
        page_link=chosen_page_link("/institution/groups", {"status": state, "sort": order}),
        status=state,
        sort=order,
        states=GROUP_STATES,
        sorts=GROUP_SORTS,
    )


async def _titles(app: App, user: User, mine: Mine, ids: set[str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for programme_id in ids:
        with contextlib.suppress(ApiError):
            programme = await app.gateway.get(f"{base(mine)}/programmes/{programme_id}", user.access_token)
            found[programme_id] = programme["title"]
    return found


@router.get("/institution/programmes/{programme_id}/groups/new", response_class=HTMLResponse)
@opens_when_approved
async def new_group(request: Request, app: App, user: InstitutionUser, programme_id: uuid.UUID) -> HTMLResponse:
    mine = await approved_institution(request, app, user)
    found = await app.gateway.get(f"{base(mine)}/programmes/{programme_id}", user.access_token)
    values = {"language": found["language"], "entry_level": str(found["entry_level"])}
    return await _group_form(request, app, user, mine, found, values, {})


@router.post("/institution/programmes/{programme_id}/groups/new", response_class=HTMLResponse)
@opens_when_approved
async def schedule_group(
    request: Request, app: App, user: InstitutionUser, programme_id: uuid.UUID, form: Form
) -> Response:
    mine = await approved_institution(request, app, user)
    found = await app.gateway.get(f"{base(mine)}/programmes/{programme_id}", user.access_token)
    body = group_body(form)
    try:
        group = await app.gateway.post(f"{base(mine)}/programmes/{programme_id}/groups", user.access_token, body)
    except ApiError as error:
        unpublished = {"form": N_("Groups can be scheduled only for a programme published in the catalogue")}
        errors = refusal_errors(error, page_errors, unpublished)
        return await _group_form(request, app, user, mine, found, form, errors, status_code=error.status)
    return RedirectResponse(f"/institution/groups/{group['id']}?scheduled=1", status_code=303)


def group_body(form: Mapping[str, str], *, only_given: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "location_id": form.get("location_id", "") or None,
        "start_date": form.get("start_date", "").strip() or None,
        "end_date": form.get("end_date", "").strip() or None,
        "schedule": form.get("schedule", ""),
        "capacity": _number(form.get("capacity")),
        "language": form.get("language", ""),
        "entry_level": _number(form.get("entry_level")),
    }
    return {k: v for k, v in body.items() if v not in (None, "")} if only_given else body


async def _group_form(
    request: Request,
    app: App,
    user: User,
    mine: Mine,
    programme: dict[str, Any],
    values: Mapping[str, str],
    errors: Errors,
    status_code: int = 200,
    group: dict[str, Any] | None = None,
) -> HTMLResponse:
    own_locations = await app.gateway.get(f"{base(mine)}/locations", user.access_token)
    usable = [loc for loc in own_locations if loc["id"] in programme["location_ids"]]
    return app.pages.render(
        request,
        "institution_group_form.html",
        status_code=status_code,
        mine=mine,
        programme=programme,
        group=group,
        locations=usable,
        values=values,
        errors=errors,
        languages=LANGUAGES,
    )


@router.get("/institution/groups/{group_id}", response_class=HTMLResponse)
@opens_when_approved
async def group(request: Request, app: App, user: InstitutionUser, group_id: uuid.UUID) -> HTMLResponse:
    mine = await approved_institution(request, app, user)
    found = await app.gateway.get(f"{base(mine)}/groups/{group_id}", user.access_token)
    programme = await app.gateway.get(f"{base(mine)}/programmes/{found['programme_id']}", user.access_token)
    notice = next((k for k in ("scheduled", "changed", "cancelled") if k in request.query_params), "")
    return app.pages.render(
        request, "institution_group.html", mine=mine, group=found, programme=programme, notice=notice
    )


@router.get("/institution/groups/{group_id}/change", response_class=HTMLResponse)
@opens_when_approved
async def change_form(request: Request, app: App, user: InstitutionUser, group_id: uuid.UUID) -> HTMLResponse:
    mine = await approved_institution(request, app, user)
    found = await app.gateway.get(f"{base(mine)}/groups/{group_id}", user.access_token)
    programme = await app.gateway.get(f"{base(mine)}/programmes/{found['programme_id']}", user.access_token)
    values = {k: str(found[k]) for k in ("location_id", "start_date", "end_date", "schedule", "capacity")}
    values |= {"language": found["language"], "entry_level": str(found["entry_level"])}
    return await _group_form(request, app, user, mine, programme, values, {}, group=found)


@router.post("/institution/groups/{group_id}/change", response_class=HTMLResponse)
@opens_when_approved
async def change_group(request: Request, app: App, user: InstitutionUser, group_id: uuid.UUID, form: Form) -> Response:
    mine = await approved_institution(request, app, user)
    found = await app.gateway.get(f"{base(mine)}/groups/{group_id}", user.access_token)
    body = {k: v for k, v in group_body(form, only_given=True).items() if str(found.get(k)) != str(v)}
    try:
        await app.gateway.patch(f"{base(mine)}/groups/{group_id}", user.access_token, body)
    except ApiError as error:
        errors = refusal_errors(error, page_errors, {"form": N_("This group is cancelled: it cannot be changed")})
        programme = await app.gateway.get(f"{base(mine)}/programmes/{found['programme_id']}", user.access_token)
        return await _group_form(
            request, app, user, mine, programme, form, errors, status_code=error.status, group=found
        )
    return RedirectResponse(f"/institution/groups/{group_id}?changed=1", status_code=303)


@router.get("/institution/groups/{group_id}/cancel", response_class=HTMLResponse)
@opens_when_approved
async def cancel_confirmation(request: Request, app: App, user: InstitutionUser, group_id: uuid.UUID) -> HTMLResponse:
    mine = await approved_institution(request, app, user)
    found = await app.gateway.get(f"{base(mine)}/groups/{group_id}", user.access_token)
    programme = await app.gateway.get(f"{base(mine)}/programmes/{found['programme_id']}", user.access_token)
    return app.pages.render(request, "institution_group_cancel.html", group=found, programme=programme, error="")


@router.post("/institution/groups/{group_id}/cancel", response_class=HTMLResponse)
@opens_when_approved
async def cancel_group(request: Request, app: App, user: InstitutionUser, group_id: uuid.UUID, form: Form) -> Response:
    mine = await approved_institution(request, app, user)
    path = f"{base(mine)}/groups/{group_id}"
    try:
        await app.gateway.patch(path, user.access_token, {"status": "cancelled"})
    except ApiError as error:
        if error.status != 409:
            raise
        found = await app.gateway.get(path, user.access_token)
        programme = await app.gateway.get(f"{base(mine)}/programmes/{found['programme_id']}", user.access_token)
        error_text = N_("Learners are enrolled in this group, or it is cancelled already: it cannot be cancelled")
        page = "institution_group_cancel.html"
        return app.pages.render(request, page, status_code=409, group=found, programme=programme, error=error_text)
    return RedirectResponse(f"/institution/groups/{group_id}?cancelled=1", status_code=303)
