"""Open Badges 3.0 credentials as VC-JWT: what is signed, that independent JOSE libraries verify it, and that a
tampered, foreign, unsigned or untimely credential is refused with its reason."""

from __future__ import annotations

import base64
import json
import warnings
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt as jose_jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from prasmes_documents.credentials import (
    CompletedStudy,
    CredentialInvalid,
    Issuer,
    Reason,
    build_credential,
    opaque_id,
    public_jwks,
    sign_credential,
    thumbprint,
    verify_credential,
)

RIGA_SUMMER = timezone(timedelta(hours=3))
ISSUER = Issuer("https://prasmes.example.lv/credentials/issuer", "Prasmes", "https://prasmes.example.lv")
KEY = Ed25519PrivateKey.generate()
KID = f"https://prasmes.example.lv/api/accounts/public/credentials/keys#{thumbprint(KEY)}"
JWKS = public_jwks(KEY, KID)
HEADER = {"kid": KID, "typ": "vc+jwt"}
STUDY = CompletedStudy(
    credential_id=opaque_id(KEY, "credential", "enrolment-1"),
    subject_id=opaque_id(KEY, "subject", "anna"),
    learner_name="Anna Bērziņa",
    achievement_id="urn:uuid:3f1c1e4a-6a43-4a53-9d0a-2f6f2d8b7c11",
    programme_title="Datu analīze",
    language="lv",
    institution_id="urn:uuid:9b1f5a44-0c1e-4b8e-a2c3-5d9e7f0a1b22",
    institution_name="Rīgas Tehniskā universitāte",
    programme_hours=160,
    hours_attended=150,
    result="passed",
    digcomp_level=4,
    started_on=date(2027, 1, 11),
    completed_on=date(2027, 3, 26),
    valid_from=datetime(2027, 3, 26, tzinfo=timezone(timedelta(hours=2))),
)
LATER = datetime(2027, 4, 10, 9, 0, tzinfo=UTC)


def _token(credential: dict[str, Any] | None = None, key: Ed25519PrivateKey = KEY, kid: str = KID) -> str:
    return sign_credential(credential or build_credential(STUDY, ISSUER), key, kid)


def _refused(token: str, jwks: dict[str, Any] = JWKS, now: datetime = LATER) -> Reason:
    with pytest.raises(CredentialInvalid) as refused:
        verify_credential(token, jwks, now=now)
    return refused.value.reason


def _segment(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _decode(segment: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return parsed


# --- what is signed ------------------------------------------------------------------------------------------


def test_a_signed_credential_verifies_and_gives_back_the_credential_and_its_facts() -> None:
    credential = build_credential(STUDY, ISSUER)
    verified = verify_credential(_token(credential), JWKS, now=LATER)
    assert verified.credential == credential
    assert (verified.kid, verified.issuer_id, verified.issuer_name) == (KID, ISSUER.id, "Prasmes")
    assert (verified.achievement_name, verified.institution) == ("Datu analīze", "Rīgas Tehniskā universitāte")
    assert (verified.hours, verified.hours_attended, verified.digcomp_level) == (160, 150, 4)
    assert verified.completed_on == date(2027, 3, 26)


def test_the_credential_is_an_open_badge_of_the_programme_with_its_facts() -> None:
    credential = build_credential(STUDY, ISSUER)
    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"] == {
        "id": ISSUER.id,
        "type": ["Profile"],
        "name": "Prasmes",
        "url": "https://prasmes.example.lv",
    }
    assert credential["validFrom"] == "2027-03-26T00:00:00+02:00"
    subject = credential["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"] and subject["id"].startswith("urn:uuid:")
    assert subject["identifier"] == [
        {"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": "Anna Bērziņa"}
    ]
    assert (subject["activityStartDate"], subject["activityEndDate"]) == ("2027-01-11", "2027-03-26")
    achievement = subject["achievement"]
    assert achievement["type"] == ["Achievement"] and achievement["achievementType"] == "Course"
    assert achievement["name"] == "Datu analīze" and achievement["criteria"]["narrative"]
    assert achievement["creator"]["name"] == "Rīgas Tehniskā universitāte"
    (alignment,) = achievement["alignment"]
    assert (alignment["targetCode"], alignment["targetFramework"][:11]) == ("4", "DigComp 2.2")
    assert {r["value"] for r in subject["result"]} == {"150", "passed"}


def test_without_a_name_or_a_level_the_credential_says_neither() -> None:
    credential = build_credential(replace(STUDY, learner_name=None, digcomp_level=None, language="en"), ISSUER)
    subject = credential["credentialSubject"]
    assert "identifier" not in subject and "alignment" not in subject["achievement"]
    description = subject["achievement"]["description"]
    assert description == "The programme “Datu analīze”, Rīgas Tehniskā universitāte: 160 hours."
    assert verify_credential(_token(credential), JWKS, now=LATER).digcomp_level is None


def test_the_jose_header_and_the_claims_are_those_of_open_badges_vc_jwt() -> None:
    token = _token()
    header, payload, _ = token.split(".")
    assert _decode(header) == {"alg": "EdDSA", "kid": KID, "typ": "vc+jwt"}
    claims = _decode(payload)
    credential = build_credential(STUDY, ISSUER)
    assert "vc" not in claims  # the payload is the credential itself (VC Data Model 2.0), not wrapped
    assert {k: v for k, v in claims.items() if k not in ("iss", "jti", "sub", "nbf")} == credential
    assert claims["iss"] == ISSUER.id and claims["jti"] == credential["id"]
    assert claims["sub"] == credential["credentialSubject"]["id"]
    assert claims["nbf"] == int(STUDY.valid_from.timestamp())


def test_the_key_set_holds_the_public_key_alone_named_by_its_thumbprint() -> None:
    (jwk,) = JWKS["keys"]
    assert set(jwk) == {"kty", "crv", "x", "kid", "alg", "use"} and "d" not in jwk
    # RFC 8037, appendix A.3: the thumbprint of the RFC's Ed25519 key
    private = base64.urlsafe_b64decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=")
    rfc_key = Ed25519PrivateKey.from_private_bytes(private)
    assert thumbprint(rfc_key) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_an_opaque_id_is_stable_and_says_nothing_of_what_it_names() -> None:
    first = opaque_id(KEY, "subject", "anna")
    assert first == opaque_id(KEY, "subject", "anna") and first.startswith("urn:uuid:")
    others = {opaque_id(KEY, "subject", "janis"), opaque_id(KEY, "credential", "anna")}
    others.add(opaque_id(Ed25519PrivateKey.generate(), "subject", "anna"))
    assert first not in others and len(others) == 3
    assert "anna" not in first


# --- independent verifiers -----------------------------------------------------------------------------------


def _joserfc(token: str) -> jose_jwt.Token:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc flags "EdDSA" as superseded by "Ed25519" (RFC 9864)
        return jose_jwt.decode(token, KeySet.import_key_set(JWKS), algorithms=["EdDSA"])


def test_joserfc_verifies_it_with_the_published_key_set() -> None:
    decoded = _joserfc(_token())
    assert decoded.header == {"alg": "EdDSA", "kid": KID, "typ": "vc+jwt"}
    assert decoded.claims["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert decoded.claims["iss"] == ISSUER.id


def test_pyjwt_verifies_it_with_the_published_key_set() -> None:
    key_set = jwt.PyJWKSet.from_dict(JWKS)
    claims = jwt.decode(_token(), key_set[KID].key, algorithms=["EdDSA"], options={"verify_nbf": False})
    assert claims["credentialSubject"]["achievement"]["name"] == "Datu analīze"


def test_joserfc_refuses_a_tampered_credential_too() -> None:
    header, payload, signature = _token().split(".")
    claims = _decode(payload) | {"name": "Doktora grāds"}
    with pytest.raises(BadSignatureError):
        _joserfc(f"{header}.{_segment(claims)}.{signature}")


# --- refused -------------------------------------------------------------------------------------------------


def test_one_changed_character_of_the_payload_breaks_the_signature() -> None:
    header, payload, signature = _token().split(".")
    middle = len(payload) // 2
    changed = payload[:middle] + ("A" if payload[middle] != "A" else "B") + payload[middle + 1 :]
    assert _refused(f"{header}.{changed}.{signature}") is Reason.BAD_SIGNATURE


def test_a_changed_body_encoded_again_without_signing_it_again_is_refused() -> None:
    header, payload, signature = _token().split(".")
    claims = _decode(payload)
    claims["credentialSubject"]["result"][0]["value"] = "160"
    assert _refused(f"{header}.{_segment(claims)}.{signature}") is Reason.BAD_SIGNATURE


def test_a_credential_signed_with_another_key_is_refused() -> None:
    other = Ed25519PrivateKey.generate()
    assert _refused(_token(key=other)) is Reason.BAD_SIGNATURE  # claiming our key's id
    assert _refused(_token(key=other, kid=f"https://elsewhere.example/keys#{thumbprint(other)}")) is Reason.UNKNOWN_KEY
    assert _refused(_token(), jwks={"keys": []}) is Reason.UNKNOWN_KEY


def test_an_unsigned_credential_alg_none_is_refused() -> None:
    _, payload, _ = _token().split(".")
    unsigned = f"{_segment({'alg': 'none', 'kid': KID, 'typ': 'vc+jwt'})}.{payload}."
    assert _refused(unsigned) is Reason.UNSUPPORTED_ALGORITHM


def test_an_hmac_made_with_the_public_key_is_refused() -> None:
    claims = _decode(_token().split(".")[1])
    public = base64.urlsafe_b64decode(JWKS["keys"][0]["x"] + "=")
    forged = jwt.encode(claims, public, algorithm="HS256", headers={"kid": KID, "typ": "vc+jwt"})
    assert _refused(forged) is Reason.UNSUPPORTED_ALGORITHM


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"alg": "EdDSA", "kid": KID, "typ": "JWT"}, Reason.UNSUPPORTED_TYPE),
        ({"alg": "EdDSA", "kid": KID}, Reason.UNSUPPORTED_TYPE),
        ({"alg": "EdDSA", "kid": KID, "typ": "vc+jwt", "crit": ["b64"], "b64": False}, Reason.MALFORMED),
        ({"alg": "EdDSA", "typ": "vc+jwt", "jwk": JWKS["keys"][0]}, Reason.UNKNOWN_KEY),
        ({"alg": "EdDSA", "typ": "vc+jwt"}, Reason.UNKNOWN_KEY),
    ],
)
def test_a_header_other_than_ours_is_refused(header: dict[str, Any], reason: Reason) -> None:
    claims = _decode(_token().split(".")[1])
    signed = jwt.encode(claims, KEY, algorithm="EdDSA", headers={"typ": None, **header})  # None: no typ at all
    assert _refused(signed) is reason


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "a.b", "....", "é.é.é", "eyJ9.eyJ9.AA", "x" * 70_000])
def test_what_is_no_jws_is_malformed(token: str) -> None:
    assert _refused(token) is Reason.MALFORMED


def test_a_payload_that_is_no_object_is_malformed() -> None:
    signed = jwt.api_jws.encode(b"[1, 2]", KEY, algorithm="EdDSA", headers=HEADER)
    assert _refused(signed) is Reason.MALFORMED


def test_a_credential_of_another_type_is_not_an_open_badge() -> None:
    credential = build_credential(STUDY, ISSUER) | {"type": ["VerifiableCredential"]}
    assert _refused(_token(credential)) is Reason.NOT_OPEN_BADGE
    credential = build_credential(STUDY, ISSUER) | {"@context": ["https://www.w3.org/ns/credentials/v2"]}
    assert _refused(_token(credential)) is Reason.NOT_OPEN_BADGE


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": "https://elsewhere.example/issuer"},
        {"jti": "urn:uuid:00000000-0000-4000-8000-000000000000"},
        {"sub": "urn:uuid:00000000-0000-4000-8000-000000000000"},
        {"nbf": 0},
        {"nbf": "2027-03-26"},
        {"exp": 4_000_000_000},
    ],
)
def test_jwt_claims_that_disagree_with_the_credential_are_refused(claims: dict[str, Any]) -> None:
    payload = _decode(_token().split(".")[1]) | claims
    signed = jwt.api_jws.encode(json.dumps(payload).encode(), KEY, algorithm="EdDSA", headers=HEADER)
    assert _refused(signed) is Reason.CLAIMS_MISMATCH


def test_a_credential_is_valid_from_its_valid_from_until_its_valid_until() -> None:
    assert _refused(_token(), now=STUDY.valid_from - timedelta(seconds=1)) is Reason.NOT_YET_VALID
    assert verify_credential(_token(), JWKS, now=STUDY.valid_from).completed_on == STUDY.completed_on
    until = datetime(2030, 1, 1, tzinfo=RIGA_SUMMER)
    ending = build_credential(STUDY, ISSUER) | {"validUntil": until.isoformat()}
    assert _decode(_token(ending).split(".")[1])["exp"] == int(until.timestamp())
    assert verify_credential(_token(ending), JWKS, now=until - timedelta(seconds=1)).hours == 160
    assert _refused(_token(ending), now=until) is Reason.EXPIRED
