"""The learner's Open Badges 3.0 credential of completed studies: downloaded by the learner whose studies they are
(only once completed), verified by anyone with the published key set or the verification route, and never carrying
the personal code (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import json
import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from accounts.adapters.credential_key import credential_key
from accounts.settings import AccountsSettings
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet
from prasmes_contracts.catalog import ProgrammePublished
from prasmes_documents.credentials import sign_credential
from prasmes_runtime.auth import TokenIssuer
from prasmes_testing.support import personal_code

from .conftest import Offer, Service, catalog_events

OFFICER = ("ilze", "agency_officer")
STAFF = ("peteris", "provider_staff")
DURING = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
AFTER = datetime(2027, 4, 10, 9, 0, tzinfo=UTC)
INSTITUTION = "Rīgas Tehniskā universitāte"
KEYS = "/public/credentials/keys"
VERIFY = "/public/credentials/verify"
VC_JWT = "application/vc+jwt"


async def _enrolled(service: Service, n: int) -> tuple[Offer, dict[str, str], str]:
    """Learner n (Anna Bērziņa) approved and enrolled in a group of RTU's programme: (offer, headers, enrolment)."""
    offer, events = catalog_events(capacity=5)
    events = [
        e.model_copy(update={"institution_name": INSTITUTION}) if isinstance(e, ProgrammePublished) else e
        for e in events
    ]
    await service.catalog(*events)
    learner = await service.learner(f"learner-{n}", n, first_name="Anna", last_name="Bērziņa")
    application = await service.apply(learner)
    approval = f"/agency/applications/{application['id']}/approval"
    assert (await service.client.post(approval, headers=service.as_(*OFFICER))).status_code == 200
    enrolled = await service.client.post(
        f"/applications/{application['id']}/enrolment", json={"group_id": str(offer.group_id)}, headers=learner
    )
    assert enrolled.status_code == 201, enrolled.text
    return offer, learner, str(enrolled.json()["id"])


async def _record(service: Service, enrolment_id: str, step: str, body: dict[str, Any]) -> None:
    recorded = await service.client.post(
        f"/provider/enrolments/{enrolment_id}/{step}", json=body, headers=service.as_(*STAFF)
    )
    assert recorded.status_code == 200, recorded.text


async def _completed(service: Service, n: int = 1) -> tuple[dict[str, str], str]:
    """Learner n's completed studies: (headers, enrolment id); the clock after the group ended."""
    _, learner, enrolment_id = await _enrolled(service, n)
    service.clock.at = DURING
    await _record(service, enrolment_id, "start", {"started_on": "2027-01-11"})
    service.clock.at = AFTER
    done = {"completed_on": "2027-03-26", "hours_attended": 150, "result": "passed"}
    await _record(service, enrolment_id, "completion", done)
    return learner, enrolment_id


async def _download(service: Service, enrolment_id: str, headers: dict[str, str], **params: str) -> httpx.Response:
    return await service.client.get(f"/accounts/me/studies/{enrolment_id}/credential", headers=headers, params=params)


def _payload(token: str) -> dict[str, Any]:
    segment = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return decoded


def _joserfc(token: str, jwks: dict[str, Any]) -> jose_jwt.Token:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc flags "EdDSA" as superseded by "Ed25519" (RFC 9864)
        return jose_jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["EdDSA"])


async def _verify(service: Service, **request: Any) -> dict[str, Any]:
    answer = await service.client.post(VERIFY, **request)
    assert answer.status_code == 200, answer.text
    verdict: dict[str, Any] = answer.json()
    return verdict


# --- the learner's download ----------------------------------------------------------------------------------


async def test_the_learner_downloads_a_vc_jwt_that_a_jose_library_verifies_with_the_published_keys(
    service: Service,
) -> None:
    learner, enrolment_id = await _completed(service)
    downloaded = await _download(service, enrolment_id, learner)
    assert downloaded.status_code == 200, downloaded.text
    assert downloaded.headers["content-type"] == VC_JWT
    assert downloaded.headers["content-disposition"].startswith("attachment;")
    token = downloaded.text
    keys = await service.client.get(KEYS)  # public: no token
    assert keys.status_code == 200
    decoded = _joserfc(token, keys.json())
    assert decoded.header == {"alg": "EdDSA", "kid": keys.json()["keys"][0]["kid"], "typ": "vc+jwt"}
    claims = decoded.claims
    assert claims["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert claims["issuer"]["name"] == "Prasmes" and claims["iss"] == claims["issuer"]["id"]
    assert claims["sub"] == claims["credentialSubject"]["id"] and claims["jti"] == claims["id"]
    assert (await _download(service, enrolment_id, learner)).text == token  # the same credential every time


async def test_the_credential_states_the_programme_the_institution_the_hours_the_level_and_the_day(
    service: Service,
) -> None:
    learner, enrolment_id = await _completed(service)
    as_json = await _download(service, enrolment_id, learner, format="json")
    assert as_json.status_code == 200 and as_json.headers["content-type"] == "application/json"
    credential = as_json.json()
    token = (await _download(service, enrolment_id, learner)).text
    assert {k: v for k, v in _payload(token).items() if k not in ("iss", "jti", "sub", "nbf")} == credential
    subject = credential["credentialSubject"]
    achievement = subject["achievement"]
    assert achievement["name"] == "Datu analīze" and achievement["achievementType"] == "Course"
    assert achievement["creator"]["name"] == INSTITUTION
    assert achievement["alignment"][0]["targetCode"] == "4"
    assert achievement["resultDescription"][0]["valueMax"] == "160"
    assert (subject["activityStartDate"], subject["activityEndDate"]) == ("2027-01-11", "2027-03-26")
    assert subject["identifier"][0]["identityHash"] == "Anna Bērziņa"
    assert credential["validFrom"] == "2027-03-26T00:00:00+02:00"


async def test_the_title_and_the_texts_are_in_the_learners_preferred_language(service: Service) -> None:
    learner, enrolment_id = await _completed(service)
    changed = await service.client.patch("/accounts/me/profile", json={"preferred_language": "en"}, headers=learner)
    assert changed.status_code == 200, changed.text
    credential = (await _download(service, enrolment_id, learner, format="json")).json()
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["name"] == credential["name"] == "Data analysis"
    described = f"The programme “Data analysis”, {INSTITUTION}: 160 hours, DigComp proficiency level 4."
    assert achievement["description"] == described


async def test_another_learner_finds_no_credential_of_studies_not_theirs(service: Service) -> None:
    _, enrolment_id = await _completed(service)
    other = await service.learner("learner-2", 2)
    assert (await _download(service, enrolment_id, other)).status_code == 404
    assert (await _download(service, str(uuid.uuid4()), other)).status_code == 404
    assert (await _download(service, enrolment_id, service.as_(*STAFF))).status_code == 403
    assert (await _download(service, enrolment_id, {})).status_code == 401


async def test_studies_not_completed_have_no_credential_yet(service: Service) -> None:
    _, learner, enrolment_id = await _enrolled(service, 1)
    enrolled = await _download(service, enrolment_id, learner)
    assert enrolled.status_code == 409, enrolled.text
    assert enrolled.json()["current"] == {"enrolment_id": enrolment_id, "state": "enrolled"}
    service.clock.at = DURING
    await _record(service, enrolment_id, "start", {"started_on": "2027-01-11"})
    assert (await _download(service, enrolment_id, learner)).json()["current"]["state"] == "studying"
    await _record(service, enrolment_id, "discontinuation", {"discontinued_on": "2027-01-20"})
    discontinued = await _download(service, enrolment_id, learner)
    assert discontinued.status_code == 409 and discontinued.json()["current"]["state"] == "discontinued"


async def test_the_personal_code_is_nowhere_in_the_credential_nor_the_platforms_ids(service: Service) -> None:
    learner, enrolment_id = await _completed(service)
    token = (await _download(service, enrolment_id, learner)).text
    credential = (await _download(service, enrolment_id, learner, format="json")).text
    verdict = json.dumps(await _verify(service, json={"credential": token}), ensure_ascii=False)
    code = personal_code(1)
    texts = [token, json.dumps(_payload(token), ensure_ascii=False), credential, verdict]
    for text in texts:
        assert code not in text and code.replace("-", "") not in text and code[:6] not in text
        assert "learner-1" not in text and enrolment_id not in text  # ids the public topics carry


# --- verification --------------------------------------------------------------------------------------------


async def test_the_verification_route_says_valid_for_the_download_and_what_it_states(service: Service) -> None:
    learner, enrolment_id = await _completed(service)
    token = (await _download(service, enrolment_id, learner)).text
    as_body = await _verify(service, content=token, headers={"content-type": VC_JWT})
    as_json = await _verify(service, json={"credential": token})
    assert as_body == as_json
    assert as_body["valid"] is True and as_body["reason"] is None
    assert as_body["credential"] == (await _download(service, enrolment_id, learner, format="json")).json()
    facts = {k: as_body[k] for k in ("issuer", "achievement_name", "institution", "hours", "digcomp_level")}
    assert facts == {
        "issuer": "Prasmes",
        "achievement_name": "Datu analīze",
        "institution": INSTITUTION,
        "hours": 160,
        "digcomp_level": 4,
    }
    assert (as_body["hours_attended"], as_body["completed_on"]) == (150, "2027-03-26")
    service.clock.at = datetime(2027, 3, 25, 12, 0, tzinfo=UTC)  # before the day of completion in Riga
    assert (await _verify(service, json={"credential": token}))["reason"] == "not_yet_valid"


async def test_a_tampered_or_foreign_credential_is_not_valid(service: Service, token_issuer: TokenIssuer) -> None:
    learner, enrolment_id = await _completed(service)
    token = (await _download(service, enrolment_id, learner)).text
    header, payload, signature = token.split(".")
    middle = len(payload) // 2
    changed = payload[:middle] + ("A" if payload[middle] != "A" else "B") + payload[middle + 1 :]
    claims = _payload(token)
    claims["credentialSubject"]["result"][0]["value"] = "160"
    swapped = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    kid = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]
    foreign = sign_credential(_payload(token), Ed25519PrivateKey.generate(), kid)
    unsigned = base64.urlsafe_b64encode(b'{"alg":"none","typ":"vc+jwt"}').rstrip(b"=").decode() + f".{payload}."
    identity = token_issuer.issue("learner-1", ["learner"])  # the identity provider's token: another key, no badge
    cases = {
        f"{header}.{changed}.{signature}": "bad_signature",
        f"{header}.{swapped}.{signature}": "bad_signature",
        foreign: "bad_signature",
        unsigned: "unsupported_algorithm",
        identity: "unsupported_type",
    }
    for tampered, reason in cases.items():
        verdict = await _verify(service, json={"credential": tampered})
        assert (verdict["valid"], verdict["reason"], verdict["credential"]) == (False, reason, None), tampered


async def test_what_is_not_a_jwt_is_a_422_naming_the_rule(service: Service) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"json": {"credential": "not a jwt"}}, "jws"),
        ({"json": {"credential": 5}}, "string_type"),
        ({"json": {"credential": "a.b.c", "more": 1}}, "extra_forbidden"),
        ({"json": {}}, "missing"),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, "json_invalid"),
        ({"content": b"\xff\xfe.a.b", "headers": {"content-type": VC_JWT}}, "utf8"),
        ({"content": b"hello", "headers": {"content-type": "text/plain"}}, "jws"),
        ({"content": b"", "headers": {"content-type": VC_JWT}}, "string_too_short"),
        ({"content": b"a.b.c", "headers": {"content-type": "application/xml"}}, "media_type"),
        ({"json": {"credential": "a." * 40_000 + "b"}}, "string_too_long"),
    ]
    for request, rule in cases:
        answer = await service.client.post(VERIFY, **request)
        assert answer.status_code == 422, (request, answer.text)
        assert rule in {e["rule"] for e in answer.json()["errors"]}, (request, answer.text)


# --- the key -------------------------------------------------------------------------------------------------


async def test_the_key_set_is_public_and_the_key_is_accounts_own(
    service: Service, tmp_path: Path, token_issuer: TokenIssuer
) -> None:
    keys = (await service.client.get(KEYS)).json()["keys"]
    (jwk,) = keys
    assert (jwk["kty"], jwk["crv"], jwk["alg"]) == ("OKP", "Ed25519", "EdDSA") and "d" not in jwk
    assert jwk["kid"].startswith("http://127.0.0.1:8000/api/accounts/public/credentials/keys#")
    assert jwk["x"] not in json.dumps(token_issuer.jwks())  # not the identity provider's key
    assert (tmp_path / "credentials" / "signing-key.pem").exists()


def test_the_key_is_created_once_and_kept(tmp_path: Path) -> None:
    settings = AccountsSettings(var_dir=tmp_path, public_url="https://prasmes.example.lv/")
    path = settings.resolved_credential_key_path()
    first = credential_key(path, settings.public_url, "accounts")
    again = credential_key(path, settings.public_url, "accounts")
    assert first.kid == again.kid and first.jwks() == again.jwks()
    assert first.kid.startswith("https://prasmes.example.lv/api/accounts/public/credentials/keys#")
    assert first.issuer.id == "https://prasmes.example.lv/credentials/issuer"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in path.parent.iterdir()] == ["signing-key.pem"]  # no draft left behind
