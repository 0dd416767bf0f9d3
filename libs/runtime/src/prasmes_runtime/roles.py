"""The platform's one role model: what kind of user a token says a caller is.

Roles say what a caller may do in general; membership (of an institution, of an evaluation) narrows a
role to objects and is checked by the service that owns them. Every service uses these groups, so that
a word such as "agency staff" means the same everywhere.
"""

from __future__ import annotations

LEARNER = "learner"
PROVIDER_ADMIN = "provider_admin"
PROVIDER_STAFF = "provider_staff"
AGENCY_OFFICER = "agency_officer"
AGENCY_ADMIN = "agency_admin"
PARTNER = "partner"
SERVICE = "service"
"""A platform service acting on its own, not for a person (a client-credentials token, subject `service:<name>`):
let in only by the routes that name it (`require_role(SERVICE)`), refused by every other route."""

ROLES = frozenset({LEARNER, PROVIDER_ADMIN, PROVIDER_STAFF, AGENCY_OFFICER, AGENCY_ADMIN, PARTNER, SERVICE})

AGENCY = (AGENCY_OFFICER, AGENCY_ADMIN)
"""Agency staff: officer work (reviews, approvals, evaluations) may be done by an officer or an admin."""
AGENCY_ADMINS = (AGENCY_ADMIN,)
"""Agency administration: funding projects, calls, reference tables, decisions."""
PROVIDER = (PROVIDER_ADMIN, PROVIDER_STAFF)
"""An institution's users (narrowed to their institution by membership)."""
PROVIDER_ADMINS = (PROVIDER_ADMIN,)
LEARNERS = (LEARNER,)
