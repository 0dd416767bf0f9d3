"""Study groups of published programmes and the learners' progress in them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from prasmes_runtime.dependencies import MAX_LIMIT, MAX_OFFSET, ClockDep, DatabaseDep, StrictQuery
from pydantic import BaseModel, Field

from catalog.api.common import TOTAL_HEADER, CatalogIn, Person
from catalog.domain.groups import (
    Enrolment,
    GroupChanges,
    GroupInput,
    GroupSort,
    GroupStatus,
    StudyGroup,
    progress_counts,
)
from catalog.service import groups

router = APIRouter()


class GroupIn(CatalogIn):
    location_id: uuid.UUID
    start_date: date
    end_date: date
    schedule: str = Field(max_length=4000, json_schema_extra={"examples": ["Otrdienās un ceturtdienās 18:00-21:00"]})
    capacity: int
    language: str = Field(max_length=10)
    entry_level: int = Field(description="The DigComp level the group is formed for (1-8).")

    def to_domain(self) -> GroupInput:
        return GroupInput(**self.model_dump())


class GroupPatch(CatalogIn):
    location_id: uuid.UUID | None = None
    start_date: date | None = None
    end_date: date | None = None
    schedule: str | None = Field(default=None, max_length=4000)
    capacity: int | None = None
    language: str | None = Field(default=None, max_length=10)
    entry_level: int | None = None
    status: Literal["cancelled"] | None = Field(default=None, description="Cancel a group nobody has enrolled in.")

    def to_domain(self) -> GroupChanges:
        return GroupChanges(
            **self.model_dump(exclude={"status"}, exclude_none=True), cancelled=self.status == "cancelled"
        )


class GroupOut(BaseModel):
    id: uuid.UUID
    programme_id: uuid.UUID
    location_id: uuid.UUID
    city: str
    start_date: date
    end_date: date
    schedule: str
    capacity: int
    enrolled: int
    free_places: int
    language: str
    entry_level: int
    status: str

    @classmethod
    def of(cls, group: StudyGroup) -> GroupOut:
        return cls(
            id=group.id,
            programme_id=group.programme_id,
            **group.spec.__dict__,
            city=group.city,
            enrolled=group.enrolled,
            free_places=group.free_places,
            status=group.status.value,
        )


class LearnerProgressOut(BaseModel):
    enrolment_id: uuid.UUID
    learner_id: str = Field(description="The learner's opaque id; catalog holds no names or personal codes.")
    status: str
    enrolled_at: datetime | None
    started_on: date | None
    ended_on: date | None
    hours_attended: int | None
    result: str | None

    @classmethod
    def of(cls, e: Enrolment) -> LearnerProgressOut:
        return cls(
            enrolment_id=e.id,
            learner_id=e.learner_id,
            status=e.status.value,
            enrolled_at=e.enrolled_at,
            started_on=e.started_on,
            ended_on=e.ended_on,
            hours_attended=e.hours_attended,
            result=e.result,
        )


class GroupDetailOut(GroupOut):
    learners: list[LearnerProgressOut]
    progress: dict[str, int] = Field(description="Learners per state: enrolled, started, discontinued, completed.")


@router.post(
    "/providers/{institution_id}/programmes/{programme_id}/groups",
    status_code=201,
    response_model=GroupOut,
    tags=["groups"],
    summary="Schedule a study group of a published programme",
)
async def schedule_group(
    institution_id: uuid.UUID,
    programme_id: uuid.UUID,
    body: GroupIn,
    user: Person,
    database: DatabaseDep,
    clock: ClockDep,
) -> GroupOut:
    group = await groups.schedule_group(database, clock, user.subject, institution_id, programme_id, body.to_domain())
    return GroupOut.of(group)


@router.get(
    "/providers/{institution_id}/groups",
    response_model=list[GroupOut],
    tags=["groups"],
    summary="The institution's groups, filtered, sorted and paged as asked",
    description="Every group without parameters. `X-Total-Count` is how many match the filters before paging.",
)
async def list_groups(
    institution_id: uuid.UUID,
    user: Person,
    database: DatabaseDep,
    response: Response,
    _query: StrictQuery,
    status: Annotated[list[GroupStatus] | None, Query(description="Only these states (repeatable).")] = None,
    programme_id: uuid.UUID | None = None,
    sort: GroupSort = GroupSort.START,
    limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT)] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[GroupOut]:
    found = await groups.groups_of(database, user.subject, institution_id, status or (), programme_id, sort)
    response.headers[TOTAL_HEADER] = str(len(found))
    page = found[offset : offset + limit] if limit is not None else found[offset:]
    return [GroupOut.of(g) for g in page]


@router.get(
    "/providers/{institution_id}/groups/{group_id}",
    response_model=GroupDetailOut,
    tags=["groups"],
    summary="A group with its learners' progress",
)
async def get_group(
    institution_id: uuid.UUID, group_id: uuid.UUID, user: Person, database: DatabaseDep
) -> GroupDetailOut:
    group, enrolments = await groups.group_with_learners(database, user.subject, institution_id, group_id)
    return GroupDetailOut(
        **GroupOut.of(group).model_dump(),
        learners=[LearnerProgressOut.of(e) for e in enrolments],
        progress=progress_counts(enrolments),
    )


@router.patch(
    "/providers/{institution_id}/groups/{group_id}",
    response_model=GroupOut,
    tags=["groups"],
    summary="Change a group's dates, place, capacity or schedule, or cancel it",
)
async def change_group(
    institution_id: uuid.UUID,
    group_id: uuid.UUID,
    body: GroupPatch,
    user: Person,
    database: DatabaseDep,
    clock: ClockDep,
) -> GroupOut:
    group = await groups.change_group(database, clock, user.subject, institution_id, group_id, body.to_domain())
    return GroupOut.of(group)
