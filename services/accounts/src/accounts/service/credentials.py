"""The learner's Open Badges credential of completed studies: issued to the learner whose studies they are, verified
for anyone who is shown one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from prasmes_documents.credentials import VerifiedCredential, build_credential, verify_credential
from prasmes_runtime.clock import Clock
from prasmes_runtime.db import Database
from prasmes_runtime.errors import NotFound

from accounts.adapters.credential_key import CredentialKey
from accounts.db import account as account_db
from accounts.db import read_models
from accounts.db import study as study_db
from accounts.domain import credentials
from accounts.domain.studies import Enrolment


@dataclass(frozen=True)
class IssuedCredential:
    token: str
    """The VC-JWT."""
    credential: dict[str, Any]
    """What it signs (the credential without the JWT claims)."""


def _ids(key: CredentialKey, enrolment: Enrolment) -> credentials.CredentialIds:
    # Keyed ids: a name-based UUID of the enrolment or of the learner (both on public topics) would tie the
    # credential to the learner's whole history there.
    return credentials.CredentialIds(
        credential_id=key.opaque_id("credential", str(enrolment.id)),
        subject_id=key.opaque_id("subject", enrolment.learner_id),
    )


async def issue(database: Database, key: CredentialKey, learner_id: str, enrolment_id: uuid.UUID) -> IssuedCredential:
    """The credential of the learner's own completed studies: another's are not found; unfinished ones a Conflict
    with their state. The same studies give the same credential each time (unless their programme changed)."""
    async with database.session() as session:
        enrolment = await study_db.enrolment_by_id(session, enrolment_id)
        if enrolment is None or enrolment.learner_id != learner_id:
            raise NotFound(f"no enrolment {enrolment_id}")
        credentials.require_completed(enrolment)
        programme = await read_models.programme_by_id(session, enrolment.programme_id)
        account = await account_db.account_of_learner(session, learner_id)
    if programme is None:  # the read model keeps every programme enrolled in
        raise NotFound(f"no programme {enrolment.programme_id}")
    if account is None:  # enrolling needs one
        raise NotFound("you have no learning account yet")
    study = credentials.completed_study(enrolment, programme, account.profile, _ids(key, enrolment))
    credential = build_credential(study, key.issuer)
    return IssuedCredential(key.sign(credential), credential)


def verify(key: CredentialKey, clock: Clock, token: str) -> VerifiedCredential:
    """The credential of `token` if accounts signed it and it is valid now; raise CredentialInvalid with the reason
    otherwise. "Now" is the service's clock, as for the study record whose dates the credential states (tests and
    rehearsals move it); in production that is the real time."""
    return verify_credential(token, key.jwks(), now=clock.now())


def key_set(key: CredentialKey) -> dict[str, Any]:
    return key.jwks()
