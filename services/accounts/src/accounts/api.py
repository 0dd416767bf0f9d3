"""HTTP routes of the accounts service: parse, authorise, call the use case, shape the answer."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prasmes_documents.credentials import MAX_TOKEN_CHARS, MEDIA_TYPE, CredentialInvalid, Reason, VerifiedCredential
from prasmes_documents.tables import table_response
from prasmes_runtime import roles
from prasmes_runtime.auth import PUBLIC, Principal, require_role
from prasmes_runtime.clock import RIGA
from prasmes_runtime.dependencies import ClockDep, ContextDep, DatabaseDep, PagingDep, refuse_unknown_query
from prasmes_runtime.errors import InvalidInput
from prasmes_runtime.http import attachment
from prasmes_runtime.schemas import NotNull, Page, Printable, StrictModel, Text
from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from accounts.adapters.credential_key import KEYS, PUBLIC_PATH, CredentialKey
from accounts.domain.account import DIGCOMP_AREAS, Account, DigCompAssessment, EducationLevel, EmploymentStatus
from accounts.domain.allocations import AllocationRun
from accounts.domain.applications import (
    PRIORITY_RULES,
    Application,
    ApplicationQuery,
    ApplicationState,
    Wish,
)
from accounts.domain.applications import AgencySort as AgencySortName
from accounts.domain.eligibility import Eligibility
from accounts.domain.learning_needs import LearningNeed
from accounts.domain.projects import AllocationMode, FundingProject
from accounts.domain.studies import Enrolment, StudyState
from accounts.service import accounts as account_service
from accounts.service import applications as application_service
from accounts.service import credentials as credential_service
from accounts.service import projects as project_service
from accounts.service import studies as study_service
from accounts.service.projects import ProjectView
from accounts.settings import AccountsAdapters

# Who may call a route: one of the runtime's role groups (see README.md: "Who may do what").
Learner = Annotated[Principal, Depends(require_role(*roles.LEARNERS))]
Officer = Annotated[Principal, Depends(require_role(*roles.AGENCY))]
Admin = Annotated[Principal, Depends(require_role(*roles.AGENCY_ADMINS))]
ProviderUser = Annotated[Principal, Depends(require_role(*roles.PROVIDER))]
"""An institution's admin or staff; narrowed to the institution's groups by catalog's provider users."""
ProviderAdmin = Annotated[Principal, Depends(require_role(*roles.PROVIDER_ADMINS))]


# --- the rules of what a request may carry ---------------------------------------------------

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"(?=.{7,20}$)\+?[0-9][0-9 ]*[0-9]")
_PROJECT_CODE = re.compile(r"[A-Z0-9_-]{2,20}")


def _rule(pattern: re.Pattern[str], rule: str, message: str) -> AfterValidator:
    """A validator refusing text that `pattern` does not match whole, with a message for people (not the pattern)."""

    def check(value: str) -> str:
        if pattern.fullmatch(value) is None:
            raise PydanticCustomError(rule, message)
        return value

    return AfterValidator(check)


Name = Annotated[str, Field(min_length=1, max_length=100), Printable]
ShortText = Annotated[str, Field(min_length=1, max_length=200), Printable]
Amount = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]
Email = Annotated[
    str, Field(max_length=254), _rule(_EMAIL, "email", "not a valid e-mail address (e.g. anna@example.lv)")
]
Phone = Annotated[
    str,
    _rule(
        _PHONE,
        "phone",
        "not a valid phone number: 7 to 20 characters, digits and spaces, a + first if you like (e.g. +371 2000 0000)",
    ),
]
ProjectCode = Annotated[
    str,
    Field(examples=["IMK"]),
    _rule(_PROJECT_CODE, "project_code", "a project code is 2 to 20 capital letters, digits, _ or - (e.g. IMK)"),
]
TEST_PERSONAL_CODE = "121212-12121"
"""The API docs' example of a personal code: a test code, valid by the check-digit rule (born 12 December 1912),
that no demo or seeded user has (the demo learner has 161175-19997, the README's "Try it" 111111-11111)."""


def _router(prefix: str, tag: str) -> APIRouter:
    return APIRouter(prefix=prefix, tags=[tag], dependencies=[Depends(refuse_unknown_query)])


# --- accounts --------------------------------------------------------------------------------

accounts_router = _router("/accounts", "learning accounts")


class OpenAccount(StrictModel):
    personal_code: str = Field(
        min_length=1,
        max_length=20,
        description=(
            "Personas kods: DDMMYY-CNNNK, or the new form 32NNNN-NNNNK. The example, "
            f"{TEST_PERSONAL_CODE}, is a test code (valid by the check-digit rule, no real or demo learner's): "
            "never put a real person's code in examples. The person must be 18 or over on the day (Riga)."
        ),
        json_schema_extra={"examples": [TEST_PERSONAL_CODE]},
    )
    birth_date: date | None = Field(
        default=None, description="Required for a new-form code (32...), which carries no birth date."
    )


class ProfileOut(BaseModel):
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    preferred_language: str
    education_level: EducationLevel | None
    employment_status: EmploymentStatus | None


class AccountOut(BaseModel):
    """The learner's view of their account. The personal code is shown masked, never whole."""

    id: uuid.UUID
    personal_code_masked: str
    birth_date: date
    opened_at: datetime
    profile: ProfileOut

    @classmethod
    def of(cls, account: Account) -> AccountOut:
        p = account.profile
        return cls(
            id=account.id,
            personal_code_masked=account.personal_code.masked,
            birth_date=account.birth_date,
            opened_at=account.opened_at,
            profile=ProfileOut(
                first_name=p.first_name,
                last_name=p.last_name,
                email=p.email,
                phone=p.phone,
                preferred_language=p.preferred_language,
                education_level=p.education_level,
                employment_status=p.employment_status,
            ),
        )


class ProfileChange(StrictModel):
    """Only the fields given change. The personal code and the birth date are not editable."""

    first_name: Name | None = None
    last_name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    preferred_language: Annotated[Literal["lv", "en"] | None, NotNull] = Field(
        default=None, description="lv or en; never null."
    )
    education_level: EducationLevel | None = None
    employment_status: EmploymentStatus | None = None


class DigCompIn(StrictModel):
    levels: dict[str, Annotated[int, Field(ge=1, le=8)]] = Field(
        description=f"A level 1–8 for each area: {', '.join(DIGCOMP_AREAS)}.",
        json_schema_extra={"examples": [dict.fromkeys(DIGCOMP_AREAS, 3)]},
    )


class DigCompOut(BaseModel):
    levels: dict[str, int]
    average: float
    assessed_at: datetime

    @classmethod
    def of(cls, a: DigCompAssessment) -> DigCompOut:
        return cls(levels=a.levels, average=round(a.average, 2), assessed_at=a.assessed_at)


@accounts_router.post("", status_code=201, response_model=AccountOut, summary="Open my learning account")
async def open_account(body: OpenAccount, learner: Learner, database: DatabaseDep, clock: ClockDep) -> AccountOut:
    return AccountOut.of(
        await account_service.open_account(database, clock, learner.subject, body.personal_code, body.birth_date)
    )


@accounts_router.get("/me", response_model=AccountOut, summary="My learning account and profile")
async def my_account(learner: Learner, database: DatabaseDep) -> AccountOut:
    return AccountOut.of(await account_service.account_of(database, learner.subject))


@accounts_router.patch("/me/profile", response_model=AccountOut, summary="Change my profile")
async def change_profile(body: ProfileChange, learner: Learner, database: DatabaseDep) -> AccountOut:
    changes = body.model_dump(exclude_unset=True)
    return AccountOut.of(await account_service.update_profile(database, learner.subject, changes))


@accounts_router.post(
    "/me/digcomp",
    status_code=201,
    response_model=DigCompOut,
    summary="Record my DigComp self-assessment (the history is kept)",
)
async def assess(body: DigCompIn, learner: Learner, database: DatabaseDep, clock: ClockDep) -> DigCompOut:
    return DigCompOut.of(await account_service.assess_digcomp(database, clock, learner.subject, body.levels))


@accounts_router.get("/me/digcomp", response_model=list[DigCompOut], summary="My DigComp self-assessments")
async def my_assessments(learner: Learner, database: DatabaseDep) -> list[DigCompOut]:
    return [DigCompOut.of(a) for a in await account_service.assessments(database, learner.subject)]


@accounts_router.get("/{account_id}", response_model=AccountOut, summary="A learning account (only your own)")
async def get_account(account_id: uuid.UUID, learner: Learner, database: DatabaseDep) -> AccountOut:
    return AccountOut.of(await account_service.get_account(database, learner.subject, account_id))


# --- funding projects ------------------------------------------------------------------------

projects_router = _router("/funding-projects", "funding projects")


class ProjectIn(StrictModel):
    """A project cannot be: a budget smaller than one grant, a window that closes before it opens, an enrolment
    deadline before the day the window closes (Riga). Times carry their offset."""

    code: ProjectCode
    name: ShortText
    budget: Amount
    grant_per_person: Amount
    window_opens_at: AwareDatetime
    window_closes_at: AwareDatetime
    enrolment_deadline: date
    allocation_mode: AllocationMode = AllocationMode.FIRST_COME
    min_age: int = Field(default=18, ge=18, le=100)
    employment_statuses: list[EmploymentStatus] | None = None

    def to_domain(self) -> FundingProject:
        statuses = frozenset(self.employment_statuses) if self.employment_statuses is not None else None
        return FundingProject(
            self.code,
            self.name,
            self.budget,
            self.grant_per_person,
            self.window_opens_at,
            self.window_closes_at,
            self.enrolment_deadline,
            self.allocation_mode,
            self.min_age,
            statuses,
        )


class ProjectChange(StrictModel):
    """Only the fields given change, to values the project's rules allow (see `ProjectIn`); none may be null."""

    name: Annotated[ShortText | None, NotNull] = None
    budget: Annotated[Amount | None, NotNull] = None
    window_opens_at: Annotated[AwareDatetime | None, NotNull] = None
    window_closes_at: Annotated[AwareDatetime | None, NotNull] = None
    enrolment_deadline: Annotated[date | None, NotNull] = None


class LearningNeedOut(BaseModel):
    code: str = Field(description="What an application names as its `learning_need_code`.")
    title: dict[str, str] = Field(description="By language: lv, en.")
    call_id: uuid.UUID = Field(description="The call whose supervisory council approved it.")
    approved_on: date

    @classmethod
    def of(cls, need: LearningNeed) -> LearningNeedOut:
        return cls(code=need.code, title=need.title, call_id=need.call_id, approved_on=need.approved_on)


class ProjectOut(BaseModel):
    code: str
    name: str
    grant_per_person: Decimal
    window_opens_at: datetime
    window_closes_at: datetime
    enrolment_deadline: date
    allocation_mode: AllocationMode
    min_age: int
    employment_statuses: list[EmploymentStatus] | None
    allocated_at: datetime | None
    lottery_seed: str | None
    budget: dict[str, Decimal] = Field(description="The live ledger: budget, reserved, spent, available.")
    ranking_rules: list[str] | None = Field(
        default=None, description="How a window_then_rank project's allocation ranks (none for first come)."
    )
    learning_needs: list[LearningNeedOut] = Field(
        description="The approved learning needs of the project's calls, by code: an application names one "
        "(required once there are any; none while the list is empty)."
    )

    @classmethod
    def of(cls, view: ProjectView) -> ProjectOut:
        project, budget = view.project, view.budget
        statuses = sorted(project.employment_statuses) if project.employment_statuses is not None else None
        return cls(
            code=project.code,
            name=project.name,
            grant_per_person=project.grant_per_person,
            window_opens_at=project.window_opens_at,
            window_closes_at=project.window_closes_at,
            enrolment_deadline=project.enrolment_deadline,
            allocation_mode=project.allocation_mode,
            min_age=project.min_age,
            employment_statuses=statuses,
            allocated_at=project.allocated_at,
            lottery_seed=project.lottery_seed,
            budget={k: Decimal(v) for k, v in budget.as_dict().items()},
            learning_needs=[LearningNeedOut.of(need) for need in view.needs],
            ranking_rules=list(PRIORITY_RULES) if project.allocation_mode is AllocationMode.WINDOW_THEN_RANK else None,
        )


_PROJECTS = TypeAdapter(list[ProjectOut])


class AllocationOut(BaseModel):
    project_code: str
    seed: str
    ranked: int
    approved: int
    rejected: int
    rules: list[str] = list(PRIORITY_RULES)


@projects_router.get(
    "", response_model=list[ProjectOut], summary="Funding projects with their live budgets", openapi_extra=PUBLIC
)
async def list_projects(database: DatabaseDep) -> Response:
    return _json(await project_service.published_projects(database, _rendered_projects))


def _rendered_projects(views: list[ProjectView]) -> bytes:
    return _PROJECTS.dump_json([ProjectOut.of(view) for view in views])


def _rendered_project(view: ProjectView) -> bytes:
    return ProjectOut.of(view).model_dump_json().encode()


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")


ProjectPath = Annotated[Text, Field(description="The project's code, e.g. IMK.")]


@projects_router.get(
    "/{code}", response_model=ProjectOut, summary="A funding project with its live budget", openapi_extra=PUBLIC
)
async def get_project(code: ProjectPath, database: DatabaseDep) -> Response:
    return _json(await project_service.published_project(database, code, _rendered_project))


@projects_router.post("", status_code=201, response_model=ProjectOut, summary="Create a funding project")
async def create_project(body: ProjectIn, _: Admin, database: DatabaseDep) -> ProjectOut:
    return ProjectOut.of(await project_service.create_project(database, body.to_domain()))


@projects_router.patch("/{code}", response_model=ProjectOut, summary="Change a funding project")
async def change_project(code: ProjectPath, body: ProjectChange, _: Admin, database: DatabaseDep) -> ProjectOut:
    return ProjectOut.of(await project_service.update_project(database, code, body.model_dump(exclude_unset=True)))


@projects_router.post(
    "/{code}/allocation",
    response_model=AllocationOut,
    summary="Rank a closed window's applications and grant them while the budget lasts",
)
async def allocate(code: ProjectPath, _: Admin, database: DatabaseDep, clock: ClockDep) -> AllocationOut:
    done = await application_service.allocate(database, clock, code)
    return AllocationOut(
        project_code=done.project_code,
        seed=done.seed,
        ranked=done.ranked,
        approved=done.approved,
        rejected=done.rejected,
    )


class AllocationRunOut(BaseModel):
    """An allocation run: its progress while it decides in batches, then its result."""

    id: uuid.UUID
    project_code: str
    seed: str = Field(description="The lottery's seed, drawn when the run started and recorded on the project.")
    total: int = Field(description="The submitted applications it ranks (once done: those it ranked).")
    ranked: int = Field(description="Decided so far, in rank order.")
    approved: int
    rejected: int
    requested_at: datetime
    finished_at: datetime | None
    done: bool
    rules_version: int
    rules: list[str] = Field(description="The ranking rules as the domain applies them.")

    @classmethod
    def of(cls, run: AllocationRun) -> AllocationRunOut:
        return cls(
            id=run.id,
            project_code=run.project_code,
            seed=run.seed,
            total=run.total,
            ranked=run.ranked,
            approved=run.approved,
            rejected=run.rejected,
            requested_at=run.requested_at,
            finished_at=run.finished_at,
            done=run.done,
            rules_version=run.rules_version,
            rules=list(PRIORITY_RULES),
        )


@projects_router.post(
    "/{code}/allocations",
    status_code=202,
    response_model=AllocationRunOut,
    summary="Start the allocation of a closed window: ranked and decided in batches in the background",
)
async def start_allocation(code: ProjectPath, admin: Admin, database: DatabaseDep, clock: ClockDep) -> AllocationRunOut:
    """A second start (or one after the project was allocated) is a 409 with the run's progress as `current`."""
    return AllocationRunOut.of(await application_service.start_allocation(database, clock, code, admin.subject))


@projects_router.get(
    "/{code}/allocations/{allocation_id}", response_model=AllocationRunOut, summary="An allocation run's progress"
)
async def allocation_progress(
    code: ProjectPath, allocation_id: uuid.UUID, _: Officer, database: DatabaseDep
) -> AllocationRunOut:
    return AllocationRunOut.of(await application_service.allocation_run(database, code, allocation_id))


@projects_router.get(
    "/{code}/allocation-run", response_model=AllocationRunOut, summary="The project's allocation run, if started"
)
async def project_allocation(code: ProjectPath, _: Officer, database: DatabaseDep) -> AllocationRunOut:
    return AllocationRunOut.of(await application_service.project_allocation_run(database, code))


class ProjectLedgerLineOut(BaseModel):
    application_id: uuid.UUID
    kind: str
    amount: Decimal
    cause: str
    at: datetime


class ProjectLedgerOut(BaseModel):
    items: list[ProjectLedgerLineOut]
    total: int
    limit: int
    offset: int
    sums: dict[str, Decimal] = Field(description="The sum of each kind of entry: reserve, spend, release.")


@projects_router.get(
    "/{code}/ledger", response_model=ProjectLedgerOut, summary="The project's budget ledger, newest first (agency)"
)
async def project_ledger(code: ProjectPath, _: Officer, database: DatabaseDep, paging: PagingDep) -> ProjectLedgerOut:
    lines, total, sums = await application_service.project_ledger(database, code, paging.limit, paging.offset)
    items = [
        ProjectLedgerLineOut(
            application_id=x.application_id, kind=x.kind.value, amount=x.amount, cause=x.cause, at=x.at
        )
        for x in lines
    ]
    return ProjectLedgerOut(
        items=items,
        total=total,
        limit=paging.limit,
        offset=paging.offset,
        sums={kind: Decimal(sums.get(kind) or 0).quantize(Decimal("0.01")) for kind in ("reserve", "spend", "release")},
    )


@projects_router.post("/lapses", summary="Lapse approved applications not enrolled by their deadline")
async def lapse(_: Admin, database: DatabaseDep, clock: ClockDep) -> dict[str, int]:
    return {"lapsed": await application_service.lapse_overdue(database, clock)}


# --- applications (the learner's side) --------------------------------------------------------

applications_router = _router("/applications", "applications for studies")


class ApplicationIn(StrictModel):
    project_code: Annotated[str, Field(min_length=1, max_length=20, examples=["IMK"]), Printable]
    learning_need_code: Annotated[str, Field(min_length=1, max_length=100), Printable] | None = Field(
        default=None,
        description="One of the project's approved learning needs (`GET /funding-projects/{code}`: "
        "`learning_needs`): required once the project has any, refused while it has none (`known_learning_need`).",
        examples=["IMK4-CYBER"],
    )
    learning_need: Annotated[str, Field(min_length=1, max_length=500), Printable] | None = Field(
        default=None,
        description="In the learner's own words, what they want to learn: seen by the learner and the agency only, "
        "never published.",
    )
    programme_id: uuid.UUID | None = Field(default=None, description="The programme the learner wants to study.")
    group_id: uuid.UUID | None = Field(
        default=None,
        description="One of the programme's study groups (catalog's `GET /public/programmes/{id}`: `groups`), offered "
        "first at enrolment: scheduled (`scheduled_group`), of a published programme (`published_programme`), of "
        "`programme_id` when that is given too (`group_of_programme`), with a free place now (`free_place`). The "
        "place is taken only by enrolling once the grant is approved.",
    )

    def wish(self) -> Wish:
        return Wish(self.learning_need_code, self.learning_need, self.programme_id, self.group_id)


class ApplicationOut(BaseModel):
    id: uuid.UUID
    project_code: str
    state: ApplicationState
    submitted_at: datetime
    learning_need_code: str | None
    learning_need: str | None = Field(description="In the learner's own words (the learner and the agency see it).")
    programme_id: uuid.UUID | None
    group_id: uuid.UUID | None = Field(description="The study group chosen when applying.")
    decided_at: datetime | None
    reason: str | None = Field(description="Why it was rejected, in the officer's words.")
    grant: dict[str, Decimal]

    @classmethod
    def of(cls, a: Application) -> ApplicationOut:
        return cls(
            id=a.id,
            project_code=a.project_code,
            state=a.state,
            submitted_at=a.submitted_at,
            learning_need_code=a.learning_need_code,
            learning_need=a.learning_need,
            programme_id=a.programme_id,
            group_id=a.group_id,
            decided_at=a.decided_at,
            reason=a.reason,
            grant={
                "reserved": a.grant.reserved,
                "spent": a.grant.spent,
                "released": a.grant.released,
                "available": a.grant.outstanding,
            },
        )


class EnrolIn(StrictModel):
    group_id: uuid.UUID


class EnrolmentOut(BaseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    programme_id: uuid.UUID
    group_id: uuid.UUID
    institution_id: uuid.UUID
    state: str
    enrolled_at: datetime
    started_on: date | None
    ended_on: date | None
    reason: str | None
    hours_attended: int | None
    result: str | None

    @classmethod
    def of(cls, e: Enrolment) -> EnrolmentOut:
        return cls(
            id=e.id,
            application_id=e.application_id,
            programme_id=e.programme_id,
            group_id=e.group_id,
            institution_id=e.institution_id,
            state=e.state.value,
            enrolled_at=e.enrolled_at,
            started_on=e.started_on,
            ended_on=e.ended_on,
            reason=e.reason,
            hours_attended=e.hours_attended,
            result=e.result,
        )


@applications_router.post("", status_code=201, response_model=ApplicationOut, summary="Apply for studies")
async def apply(body: ApplicationIn, learner: Learner, database: DatabaseDep, clock: ClockDep) -> ApplicationOut:
    return ApplicationOut.of(
        await application_service.submit_application(database, clock, learner.subject, body.project_code, body.wish())
    )


@applications_router.get("", response_model=list[ApplicationOut], summary="My applications")
async def my_applications(learner: Learner, database: DatabaseDep) -> list[ApplicationOut]:
    return [ApplicationOut.of(a) for a in await application_service.my_applications(database, learner.subject)]


@applications_router.get("/{application_id}", response_model=ApplicationOut, summary="One of my applications")
async def my_application(application_id: uuid.UUID, learner: Learner, database: DatabaseDep) -> ApplicationOut:
    return ApplicationOut.of(await application_service.my_application(database, learner.subject, application_id))


@applications_router.post(
    "/{application_id}/withdrawal",
    response_model=ApplicationOut,
    summary="Withdraw my application (before a decision, or give back a grant before enrolling)",
)
async def withdraw(
    application_id: uuid.UUID, learner: Learner, database: DatabaseDep, clock: ClockDep
) -> ApplicationOut:
    return ApplicationOut.of(await application_service.withdraw(database, clock, learner.subject, application_id))


@applications_router.post(
    "/{application_id}/enrolment",
    status_code=201,
    response_model=EnrolmentOut,
    summary="Enrol in a study group of a published programme",
)
async def enrol(
    application_id: uuid.UUID, body: EnrolIn, learner: Learner, database: DatabaseDep, clock: ClockDep
) -> EnrolmentOut:
    return EnrolmentOut.of(await study_service.enrol(database, clock, learner.subject, application_id, body.group_id))


# --- which projects the learner may apply to ---------------------------------------------------


class ReasonOut(BaseModel):
    """One rule the learner fails, as a refused submission would name it (422 or 409)."""

    rule: str = Field(
        description="What the web translates by: application_window, minimum_age, project_condition (the employment "
        "status), open_application, budget_exhausted.",
        examples=["minimum_age"],
    )
    field: str = Field(
        description="What the rule concerns: project_code (the window, an open application, the budget), "
        "birth_date (the age) or employment_status (the profile's).",
        examples=["birth_date"],
    )
    message: str = Field(description="In English, for people.", examples=["IMK is for learners aged 18 or over"])


class EligibilityOut(BaseModel):
    """A funding project and whether the learner may apply to it now, with every reason why not."""

    project_code: str = Field(examples=["IMK"])
    name: str
    eligible: bool = Field(description="True exactly when `reasons` is empty.")
    reasons: list[ReasonOut] = Field(
        description="Every rule the learner fails, not only the first: the project's rules in the order a submission "
        "checks them (the first is the one `POST /applications` refuses with), then an open application, then the "
        "budget. `budget_exhausted` does not refuse a submission, but no grant can be approved while it holds."
    )
    open_application_id: uuid.UUID | None = Field(
        description="The learner's open application to the project (submitted, approved, enrolled or studying), "
        "when there is one (the reason `open_application`)."
    )
    grant_per_person: Decimal = Field(description="EUR, two decimals.", examples=["500.00"])
    window_opens_at: datetime
    window_closes_at: datetime = Field(description="Applications are accepted from the opening until this instant.")
    enrolment_deadline: date = Field(
        description="An approved learner enrols in a group by this day, or the grant lapses."
    )

    @classmethod
    def of(cls, e: Eligibility) -> EligibilityOut:
        p = e.project
        return cls(
            project_code=p.code,
            name=p.name,
            eligible=e.eligible,
            reasons=[ReasonOut(rule=r.rule, field=r.field, message=r.message) for r in e.reasons],
            open_application_id=e.open_application.id if e.open_application else None,
            grant_per_person=p.grant_per_person,
            window_opens_at=p.window_opens_at,
            window_closes_at=p.window_closes_at,
            enrolment_deadline=p.enrolment_deadline,
        )


@accounts_router.get(
    "/me/eligibility",
    response_model=list[EligibilityOut],
    summary="The funding projects I may apply to, and every reason why not where not",
)
async def my_eligibility(learner: Learner, database: DatabaseDep, clock: ClockDep) -> list[EligibilityOut]:
    """Every funding project, by code; 404 when the learner has no account yet."""
    return [EligibilityOut.of(e) for e in await application_service.my_eligibility(database, clock, learner.subject)]


# --- the learner's grant and learning history ------------------------------------------------


class LedgerEntryOut(BaseModel):
    application_id: uuid.UUID
    project_code: str
    kind: str
    amount: Decimal
    cause: str
    at: datetime


class GrantOut(BaseModel):
    reserved: Decimal
    spent: Decimal
    released: Decimal
    available: Decimal
    entries: list[LedgerEntryOut]


class StudyOut(BaseModel):
    enrolment: EnrolmentOut
    programme_title: dict[str, str]
    institution_name: str | None
    digcomp_before: DigCompOut | None
    digcomp_after: DigCompOut | None


@accounts_router.get("/me/grant", response_model=GrantOut, summary="My grants: reserved, spent, available")
async def my_grant(learner: Learner, database: DatabaseDep) -> GrantOut:
    grant, entries = await application_service.my_grant(database, learner.subject)
    return GrantOut(
        reserved=grant.reserved,
        spent=grant.spent,
        released=grant.released,
        available=grant.outstanding,
        entries=[
            LedgerEntryOut(
                application_id=e.application_id,
                project_code=e.project_code,
                kind=e.kind.value,
                amount=e.amount,
                cause=e.cause,
                at=e.at,
            )
            for e in entries
        ],
    )


@accounts_router.get("/me/studies", response_model=list[StudyOut], summary="My learning history")
async def my_studies(learner: Learner, database: DatabaseDep) -> list[StudyOut]:
    return [
        StudyOut(
            enrolment=EnrolmentOut.of(s.enrolment),
            programme_title=s.programme_title,
            institution_name=s.institution_name,
            digcomp_before=DigCompOut.of(s.digcomp_before) if s.digcomp_before else None,
            digcomp_after=DigCompOut.of(s.digcomp_after) if s.digcomp_after else None,
        )
        for s in await study_service.learning_history(database, learner.subject)
    ]


# --- the credential of completed studies (Open Badges 3.0, as VC-JWT) ------------------------------------------

credentials_router = _router(PUBLIC_PATH, "credentials")
_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_JWS_RULE = _rule(_JWS, "jws", "not a JWS in compact serialization: three base64url parts separated by dots")
CredentialToken = Annotated[str, Field(min_length=1, max_length=MAX_TOKEN_CHARS), _JWS_RULE]
_TEXT_TYPES = (MEDIA_TYPE, "application/jwt", "text/plain")


async def _credential_key(context: ContextDep) -> CredentialKey:
    adapters: AccountsAdapters = context.adapters
    return adapters.credential_key


CredentialKeyDep = Annotated[CredentialKey, Depends(_credential_key)]
_CREDENTIAL_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": f"The VC-JWT ({MEDIA_TYPE}), or with `format=json` the credential it signs.",
        "content": {MEDIA_TYPE: {"schema": {"type": "string"}}, "application/json": {"schema": {"type": "object"}}},
    }
}


EXAMPLE_JWS = "eyJhbGciOiJFZERTQSIsInR5cCI6InZjK2p3dCJ9.e30.AAAA"
"""A JWS that is no credential of ours: its header names no key."""


class VerifyIn(StrictModel):
    credential: CredentialToken = Field(description=f"The VC-JWT ({MEDIA_TYPE}).", examples=[EXAMPLE_JWS])


_VERIFY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": f'The VC-JWT as the body ({MEDIA_TYPE} or text/plain), or JSON {{"credential": "..."}}.',
        "content": {
            "application/json": {"schema": VerifyIn.model_json_schema()},
            MEDIA_TYPE: {"schema": {"type": "string"}},
            "text/plain": {"schema": {"type": "string"}},
        },
    }
}


class KeySetOut(BaseModel):
    keys: list[dict[str, str]] = Field(description="JWKs (RFC 7517): Ed25519 public keys, each named by its `kid`.")


class VerificationOut(BaseModel):
    valid: bool
    reason: Reason | None = Field(default=None, description="Why it is not valid (none when it is).")
    message: str | None = None
    credential: dict[str, Any] | None = Field(default=None, description="The credential it signs, when valid.")
    issuer: str | None = None
    issuer_id: str | None = None
    achievement_name: str | None = None
    institution: str | None = None
    hours: int | None = Field(default=None, description="The programme's hours.")
    hours_attended: int | None = None
    digcomp_level: int | None = None
    completed_on: date | None = None

    @classmethod
    def of(cls, v: VerifiedCredential) -> VerificationOut:
        return cls(
            valid=True,
            credential=v.credential,
            issuer=v.issuer_name,
            issuer_id=v.issuer_id,
            achievement_name=v.achievement_name,
            institution=v.institution,
            hours=v.hours,
            hours_attended=v.hours_attended,
            digcomp_level=v.digcomp_level,
            completed_on=v.completed_on,
        )


async def _token_of(request: Request) -> str:
    """The VC-JWT a verification request carries: as the body, or JSON `{"credential": ...}`; a 422 otherwise."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    raw = await request.body()
    if media_type == "application/json":
        try:
            fields = json.loads(raw)
        except ValueError as exc:
            raise InvalidInput.of("body", "json_invalid", "the request body is not valid JSON") from exc
    elif media_type in (*_TEXT_TYPES, ""):
        try:
            fields = {"credential": raw.decode("utf-8").strip()}
        except UnicodeDecodeError as exc:
            raise InvalidInput.of("credential", "utf8", "the request body is not UTF-8 text") from exc
    else:
        message = f'send the VC-JWT as {MEDIA_TYPE} or text/plain, or as JSON {{"credential": "..."}}'
        raise InvalidInput.of("body", "media_type", message)
    try:
        return VerifyIn.model_validate(fields).credential
    except ValidationError as exc:  # only where and why: the value is not echoed
        raise RequestValidationError(
            [{"loc": ("body", *e["loc"]), "type": e["type"], "msg": e["msg"]} for e in exc.errors()]
        ) from None


Format = Annotated[
    Literal["jwt", "json"], Query(alias="format", description="jwt: the VC-JWT (default); json: what it signs.")
]


@accounts_router.get(
    "/me/studies/{enrolment_id}/credential",
    response_class=Response,
    responses=_CREDENTIAL_ANSWERS,
    summary="The Open Badges 3.0 credential of my completed studies (a VC-JWT)",
)
async def my_credential(
    enrolment_id: uuid.UUID, learner: Learner, database: DatabaseDep, key: CredentialKeyDep, format_: Format = "jwt"
) -> Response:
    """Only for completed studies (409 with the current state otherwise); another learner's are not found."""
    issued = await credential_service.issue(database, key, learner.subject, enrolment_id)
    if format_ == "json":
        return JSONResponse(issued.credential)
    disposition = attachment(f"credential-{enrolment_id}.jwt")
    return Response(issued.token, media_type=MEDIA_TYPE, headers={"Content-Disposition": disposition})


@credentials_router.get(
    KEYS,
    response_model=KeySetOut,
    summary="The public keys the learners' credentials are signed with (JWKS)",
    openapi_extra=PUBLIC,
)
async def credential_keys(key: CredentialKeyDep) -> dict[str, Any]:
    return credential_service.key_set(key)


@credentials_router.post(
    "/verify",
    response_model=VerificationOut,
    summary="Verify a credential: its signature, type, claims and validity, and what it states",
    openapi_extra={**PUBLIC, **_VERIFY_BODY},
)
async def verify_credential(request: Request, key: CredentialKeyDep, clock: ClockDep) -> VerificationOut:
    """200 with `valid` false and the reason for a credential that does not verify; 422 for what is not a JWS."""
    token = await _token_of(request)
    try:
        return VerificationOut.of(credential_service.verify(key, clock, token))
    except CredentialInvalid as refused:
        return VerificationOut(valid=False, reason=refused.reason, message=refused.message)


# --- the agency's side -----------------------------------------------------------------------

agency_router = _router("/agency/applications", "agency: applications")
CSV_COLUMNS = [
    "application_id",
    "project_code",
    "state",
    "submitted_at",
    "decided_at",
    "first_name",
    "last_name",
    "birth_date",
    "employment_status",
    "education_level",
    "learning_need_code",
    "learning_need",
    "reserved",
    "spent",
    "released",
    "reason_code",
]


class Rejection(StrictModel):
    reason_code: Literal["not_eligible", "incomplete", "duplicate", "budget_exhausted", "other"]
    reason: Annotated[str, Field(min_length=1, max_length=1000), Printable] = Field(description="Shown to the learner.")


class AgencyApplicationOut(ApplicationOut):
    learner_name: str | None
    birth_date: date


def _agency_item(application: Application, account: Account) -> AgencyApplicationOut:
    base = ApplicationOut.of(application)
    return AgencyApplicationOut(
        **base.model_dump(), learner_name=account.profile.full_name, birth_date=account.birth_date
    )


def _csv_row(application: Application, account: Account) -> list[object]:
    return ["" if v is None else v for v in _csv_cells(application, account)]


def _csv_cells(application: Application, account: Account) -> list[object | None]:
    """One application's cells of an export (None: empty); times and ids as text."""
    p, g = account.profile, application.grant
    values: list[object | None] = [
        application.id,
        application.project_code,
        application.state.value,
        application.submitted_at,
        application.decided_at,
        p.first_name,
        p.last_name,
        account.birth_date,
        p.employment_status.value if p.employment_status else None,
        p.education_level.value if p.education_level else None,
        application.learning_need_code,
        application.learning_need,
        g.reserved,
        g.spent,
        g.released,
        application.reason_code,
    ]
    return [v if v is None or isinstance(v, str | Decimal) else str(v) for v in values]


StatesQuery = Annotated[list[ApplicationState], Query(default_factory=list, description="Any of these states.")]
ProjectFilter = Annotated[Text | None, Query(description="A funding project's code: an unknown one is a 422.")]
AgencySort = Annotated[
    AgencySortName,
    Query(description="By the time submitted or decided, the learner's name (last, first) or the state; - reverses."),
]
DayQuery = Annotated[date | None, Query(description="A day in Riga.")]
NameQuery = Annotated[Text | None, Query(max_length=100, description="Part of the learner's name, any case.")]


async def _agency_query(
    state: StatesQuery,
    project_code: ProjectFilter = None,
    submitted_from: DayQuery = None,
    submitted_to: DayQuery = None,
    q: NameQuery = None,
    sort: AgencySort = "submitted",
) -> ApplicationQuery:
    """The agency's filters: submitted from the start of `submitted_from` until the end of `submitted_to` (Riga)."""
    if submitted_from and submitted_to and submitted_to < submitted_from:
        raise InvalidInput.of("submitted_to", "not_before_from", "the last day cannot come before the first")
    return ApplicationQuery(
        project_code=project_code or None,
        states=tuple(s.value for s in state),
        submitted_from=_riga_midnight(submitted_from) if submitted_from else None,
        submitted_before=_riga_midnight(submitted_to + timedelta(days=1)) if submitted_to else None,
        name=(q or "").strip() or None,
        sort=sort,
    )


def _riga_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), RIGA)


AgencyQuery = Annotated[ApplicationQuery, Depends(_agency_query)]


@agency_router.get(
    "", response_model=Page[AgencyApplicationOut], summary="Applications by project, state, day and name"
)
async def agency_list(
    _: Officer, database: DatabaseDep, paging: PagingDep, query: AgencyQuery
) -> Page[AgencyApplicationOut]:
    page, total = await application_service.agency_applications(database, query, paging.limit, paging.offset)
    return Page[AgencyApplicationOut](
        items=[_agency_item(*item) for item in page], total=total, limit=paging.limit, offset=paging.offset
    )


@agency_router.get(".csv", summary="The same list as CSV", response_class=Response)
async def agency_csv(_: Officer, database: DatabaseDep, query: AgencyQuery) -> Response:
    rows = await application_service.agency_export(database, query)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_row(*item) for item in rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": attachment(f"applications-{query.project_code or 'all'}.csv")},
    )


@agency_router.get(".xlsx", summary="The same list as XLSX", response_class=Response)
async def agency_xlsx(_: Officer, database: DatabaseDep, query: AgencyQuery) -> Response:
    rows = await application_service.agency_export(database, query)
    name = f"applications-{query.project_code or 'all'}"
    return table_response(name, CSV_COLUMNS, [_csv_cells(*item) for item in rows], "xlsx")


@agency_router.get("/{application_id}", response_model=AgencyApplicationOut, summary="One application")
async def agency_get(application_id: uuid.UUID, _: Officer, database: DatabaseDep) -> AgencyApplicationOut:
    return _agency_item(*await application_service.get_application(database, application_id))


@agency_router.post(
    "/{application_id}/approval",
    response_model=ApplicationOut,
    summary="Approve: reserve the grant from the project's budget",
)
async def approve(application_id: uuid.UUID, _: Officer, database: DatabaseDep, clock: ClockDep) -> ApplicationOut:
    return ApplicationOut.of(await application_service.approve(database, clock, application_id))


@agency_router.post("/{application_id}/rejection", response_model=ApplicationOut, summary="Reject, with a reason")
async def reject(
    application_id: uuid.UUID, body: Rejection, _: Officer, database: DatabaseDep, clock: ClockDep
) -> ApplicationOut:
    return ApplicationOut.of(
        await application_service.reject(database, clock, application_id, body.reason_code, body.reason)
    )


# --- the provider's side ---------------------------------------------------------------------

provider_router = _router("/provider/enrolments", "provider: study record")


class Started(StrictModel):
    started_on: date = Field(
        description="From a week before the group's first day until its last day, and not after today (Riga)."
    )


class Discontinued(StrictModel):
    discontinued_on: date = Field(
        description="From the start (or the day of enrolment, when the studies never started) until the group's "
        "last day, and not after today (Riga)."
    )
    reason: Annotated[str, Field(max_length=500), Printable] | None = None


class Completed(StrictModel):
    completed_on: date = Field(description="From the start until the group's last day, and not after today (Riga).")
    hours_attended: int = Field(ge=0, le=5000)
    result: Annotated[str, Field(min_length=1, max_length=200, examples=["passed"]), Printable]


class ProviderEnrolmentOut(EnrolmentOut):
    learner_name: str | None = Field(
        description="The learner's name as far as their profile gives it: shown to the institution whose group it is."
    )
    invoiced_amount: Decimal | None
    invoiced_at: datetime | None


class InvoiceOut(BaseModel):
    enrolment_id: uuid.UUID
    application_id: uuid.UUID
    amount: Decimal = Field(description="What the grant paid for these studies (EUR).")
    cause: str = Field(description="completed or discontinued: what made the amount due.")
    invoiced_at: datetime


StudyStatesQuery = Annotated[list[StudyState], Query(default_factory=list, description="Any of these states.")]
EnrolmentSort = Annotated[
    Literal["enrolled", "-enrolled", "name", "-name", "state"],
    Query(description="Within each group: by the day of enrolment, the learner's name (last, first) or the state."),
]


def _provider_item(e: Enrolment, name: str | None) -> ProviderEnrolmentOut:
    return ProviderEnrolmentOut(
        **EnrolmentOut.of(e).model_dump(),
        learner_name=name,
        invoiced_amount=e.invoiced_amount,
        invoiced_at=e.invoiced_at,
    )


@provider_router.get(
    "", response_model=Page[ProviderEnrolmentOut], summary="Enrolments in my institution's groups, with names"
)
async def provider_list(
    provider: ProviderUser,
    database: DatabaseDep,
    paging: PagingDep,
    state: StudyStatesQuery,
    group_id: uuid.UUID | None = None,
    sort: EnrolmentSort = "enrolled",
) -> Page[ProviderEnrolmentOut]:
    page, total = await study_service.provider_enrolments(
        database, provider.subject, group_id, state, sort, paging.limit, paging.offset
    )
    items = [_provider_item(e, name) for e, name in page]
    return Page[ProviderEnrolmentOut](items=items, total=total, limit=paging.limit, offset=paging.offset)


@provider_router.get(
    "/{enrolment_id}", response_model=ProviderEnrolmentOut, summary="One enrolment in my institution's groups"
)
async def provider_get(enrolment_id: uuid.UUID, provider: ProviderUser, database: DatabaseDep) -> ProviderEnrolmentOut:
    return _provider_item(*await study_service.provider_enrolment(database, provider.subject, enrolment_id))


@provider_router.post("/{enrolment_id}/start", response_model=EnrolmentOut, summary="Record the start of studies")
async def record_start(
    enrolment_id: uuid.UUID, body: Started, user: ProviderUser, database: DatabaseDep, clock: ClockDep
) -> EnrolmentOut:
    return EnrolmentOut.of(await study_service.start(database, clock, user.subject, enrolment_id, body.started_on))


@provider_router.post(
    "/{enrolment_id}/discontinuation", response_model=EnrolmentOut, summary="Record that the learner discontinued"
)
async def record_discontinuation(
    enrolment_id: uuid.UUID, body: Discontinued, user: ProviderUser, database: DatabaseDep, clock: ClockDep
) -> EnrolmentOut:
    return EnrolmentOut.of(
        await study_service.discontinue(database, clock, user.subject, enrolment_id, body.discontinued_on, body.reason)
    )


@provider_router.post(
    "/{enrolment_id}/completion", response_model=EnrolmentOut, summary="Record that the learner completed"
)
async def record_completion(
    enrolment_id: uuid.UUID, body: Completed, user: ProviderUser, database: DatabaseDep, clock: ClockDep
) -> EnrolmentOut:
    return EnrolmentOut.of(
        await study_service.complete(
            database, clock, user.subject, enrolment_id, body.completed_on, body.hours_attended, body.result
        )
    )


@provider_router.post(
    "/{enrolment_id}/invoice",
    response_model=InvoiceOut,
    summary="Invoice what the grant paid for these studies, once they ended (completed or discontinued)",
)
async def record_invoice(
    enrolment_id: uuid.UUID, admin: ProviderAdmin, database: DatabaseDep, clock: ClockDep
) -> InvoiceOut:
    invoiced = await study_service.invoice(database, clock, admin.subject, enrolment_id)
    assert invoiced.invoiced_amount is not None and invoiced.invoiced_at is not None
    return InvoiceOut(
        enrolment_id=invoiced.id,
        application_id=invoiced.application_id,
        amount=invoiced.invoiced_amount,
        cause=invoiced.state.value,
        invoiced_at=invoiced.invoiced_at,
    )


ROUTERS = [accounts_router, projects_router, applications_router, agency_router, provider_router, credentials_router]
