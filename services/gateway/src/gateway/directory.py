"""The identity provider's user directory: who a user name or an e-mail address is, and the display names
of subjects, for the services that must show people without storing their names (catalog's provider users).

In development the directory is the seeded users; in production the identity provider's own store (or the
federated eID's) answers. Only staff may look people up — an institution's users and the agency — and only
by an exact user name, e-mail address or subject: there is no listing of everyone.

A platform service (a `service` token, from `POST /auth/service-token`) asks by subject only, for the contact it
needs at the moment it acts (notifications: the e-mail address and the language to write in); it gets `language`
as well, and stores neither. It may also ask who holds an agency role (`/auth/directory/staff?role=`): the
subjects only, for notifications to tell the agency's officers of work waiting for them (a registration to
approve, a quality flag). No listing of learners or of an institution's users: those come from their owners' events.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from prasmes_runtime import roles
from prasmes_runtime.auth import Principal, require_role
from prasmes_runtime.errors import Forbidden, InvalidInput, NotFound
from pydantic import BaseModel

from gateway.identity import DEV_USERS, DevUser, Language
from gateway.settings import GatewaySettings


def _users(request: Request) -> dict[str, DevUser]:
    """The users this identity provider knows: the seeded ones in dev mode (no store of its own yet)."""
    settings: GatewaySettings = request.app.state.settings
    return DEV_USERS if settings.dev_mode else {}


Users = Annotated[dict[str, DevUser], Depends(_users)]
StaffOrService = Annotated[Principal, Depends(require_role(*roles.PROVIDER, *roles.AGENCY, roles.SERVICE))]
Service = Annotated[Principal, Depends(require_role(roles.SERVICE))]
AgencyRole = Literal["agency_officer", "agency_admin"]
MAX_SUBJECTS = 200
router = APIRouter(prefix="/auth/directory", tags=["identity"])


class DirectoryUser(BaseModel):
    subject: str
    username: str
    display_name: str
    email: str
    language: Language | None = None
    """Only to a platform service (asking by subject): the language to write to the user in."""


class DirectoryUsers(BaseModel):
    users: list[DirectoryUser]


def _view(user: DevUser, *, contact: bool = False) -> DirectoryUser:
    """`contact`: with what a service needs to write to the user (their language)."""
    return DirectoryUser(
        subject=user.subject,
        username=user.username,
        display_name=user.display_name,
        email=user.email,
        language=user.language if contact else None,
    )


@router.get(
    "/users",
    response_model=DirectoryUser | DirectoryUsers,
    response_model_exclude_none=True,
    summary="Find a user, or name subjects",
)
async def find_users(
    caller: StaffOrService,
    users: Users,
    username: Annotated[str | None, Query(max_length=200)] = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
    subject: Annotated[list[str] | None, Query(max_length=MAX_SUBJECTS)] = None,
) -> DirectoryUser | DirectoryUsers:
    """`?username=` or `?email=`: the one user (404 when unknown); `?subject=A&subject=B`: the known ones (to a
    platform service with their `language` too; a service asks by subject only)."""
    service = caller.has_any((roles.SERVICE,))
    if service and not subject:
        raise Forbidden("a platform service asks the directory by subject only")
    if subject:
        known = {user.subject: user for user in users.values()}
        return DirectoryUsers(users=[_view(known[s], contact=service) for s in dict.fromkeys(subject) if s in known])
    if (username is None) == (email is None):
        raise InvalidInput.of("username", "one_of", "give exactly one of username, email or subject")
    for user in users.values():
        if user.username == username or (email is not None and user.email == email.strip().lower()):
            return _view(user)
    raise NotFound("no such user in the directory")


class RoleMembers(BaseModel):
    role: AgencyRole
    subjects: list[str]


@router.get("/staff", response_model=RoleMembers, summary="Who holds an agency role (platform services only)")
async def staff(_: Service, users: Users, role: Annotated[AgencyRole, Query()]) -> RoleMembers:
    """The opaque subjects of the agency's users holding `role`, in a stable order: no names, no contacts."""
    return RoleMembers(role=role, subjects=sorted(u.subject for u in users.values() if role in u.roles))
