"""Open Badges 3.0 credentials of completed studies, signed as VC-JWT, and their verification. Pure: plain values in,
a credential (a dict) and a token (a string) out; no I/O but the cryptography.

The credential is an `OpenBadgeCredential` of Open Badges 3.0 (its 3.0.3 JSON-LD context) on the W3C Verifiable
Credentials Data Model 2.0: the platform's `Profile` as the issuer, an `AchievementSubject` holding the `Achievement`
(the programme: its institution as `creator`, its DigComp level as an `alignment`, its hours as a
`resultDescription`) and the learner's `result` (hours attended, the outcome) and dates. The learner is an opaque id
(and their name, when known, as an `IdentityObject`): never a personal code.

The proof is the JSON Web Token format of Open Badges 3.0 ("Proofs (Signatures)", JSON Web Token Proof Format,
https://www.imsglobal.org/spec/ob/v3p0/#jwt-proof): a JWS in compact serialization whose payload is the credential
itself with the JWT claims `iss`, `jti`, `nbf`, `sub` (and `exp`) beside its members, and whose JOSE header holds
`alg`, `kid` and `typ` only. Ed25519 keys, `alg` EdDSA.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_CONTEXT_PREFIX = "https://purl.imsglobal.org/spec/ob/v3p0/context"
CREDENTIAL_TYPES = ("VerifiableCredential", "OpenBadgeCredential")
BADGE_TYPES = frozenset({"OpenBadgeCredential", "AchievementCredential"})
"""`AchievementCredential` is the context's alias of `OpenBadgeCredential`."""
ALGORITHM = "EdDSA"
JOSE_TYPE = "vc+jwt"
MEDIA_TYPE = "application/vc+jwt"
HEADER_PARAMETERS = frozenset({"alg", "kid", "typ"})
JWT_CLAIMS = ("iss", "jti", "sub", "nbf", "exp", "iat")
"""The JWT claims a token carries beside the credential's members (not part of the credential itself)."""
MAX_TOKEN_CHARS = 64 * 1024
DIGCOMP_FRAMEWORK = "DigComp 2.2: The Digital Competence Framework for Citizens"
DIGCOMP_URL = "https://joint-research-centre.ec.europa.eu/digcomp_en"
DIGCOMP_BANDS = {1: "Foundation", 2: "Foundation", 3: "Intermediate", 4: "Intermediate"}
DIGCOMP_BANDS |= {5: "Advanced", 6: "Advanced", 7: "Highly specialised", 8: "Highly specialised"}
HOURS = "#hours"
OUTCOME = "#outcome"
"""Fragments of the achievement's id naming its two result descriptions."""
_OPAQUE_LABEL = b"prasmes credentials: opaque ids"


@dataclass(frozen=True)
class Issuer:
    """The platform as the credentials' issuer (an Open Badges `Profile`)."""

    id: str
    name: str
    url: str | None = None


@dataclass(frozen=True)
class CompletedStudy:
    """What a credential says of completed studies, as plain values. Ids are URIs (`urn:uuid:...`)."""

    credential_id: str
    subject_id: str
    """An opaque id of the learner (`opaque_id`): linkable to nothing the platform publishes."""
    learner_name: str | None
    achievement_id: str
    programme_title: str
    language: str
    """`lv` or `en`: the language of the title and of the texts."""
    institution_id: str
    institution_name: str | None
    programme_hours: int
    hours_attended: int
    result: str
    digcomp_level: int | None
    started_on: date
    completed_on: date
    valid_from: datetime


class Reason(StrEnum):
    MALFORMED = "malformed"
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"
    UNSUPPORTED_TYPE = "unsupported_type"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    NOT_OPEN_BADGE = "not_open_badge"
    CLAIMS_MISMATCH = "claims_mismatch"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"


class CredentialInvalid(Exception):
    """A token that is not a valid credential of ours: `reason` says which check failed, the message how."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class VerifiedCredential:
    """A credential whose signature, header, type, claims and validity period were checked, with its facts."""

    credential: dict[str, Any]
    """The credential as signed, without the JWT claims."""
    kid: str
    issuer_id: str
    issuer_name: str | None
    achievement_name: str | None
    institution: str | None
    hours: int | None
    """The programme's hours."""
    hours_attended: int | None
    digcomp_level: int | None
    completed_on: date | None


# --- keys ------------------------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _public(key: Ed25519PrivateKey | Ed25519PublicKey) -> Ed25519PublicKey:
    return key.public_key() if isinstance(key, Ed25519PrivateKey) else key


def thumbprint(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The key's JWK thumbprint (RFC 7638, SHA-256): its members crv, kty, x in that order, no whitespace."""
    x = _b64(_public(key).public_bytes_raw())
    members = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    return _b64(hashlib.sha256(members.encode("ascii")).digest())


def public_jwks(key: Ed25519PrivateKey | Ed25519PublicKey, kid: str) -> dict[str, Any]:
    """The key set a verifier needs: the public key alone (never `d`), named `kid`."""
    x = _b64(_public(key).public_bytes_raw())
    return {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": ALGORITHM, "use": "sig"}]}


def opaque_id(key: Ed25519PrivateKey, purpose: str, reference: str) -> str:
    """A `urn:uuid:` for `reference` that only the holder of `key` can compute: the same for the same reference,
    and, unlike a name-based UUID of an id the platform publishes, not linkable to it by anyone else (an HMAC under
    a secret derived from the key, domain-separated from the signatures by its label and from other ids by
    `purpose`)."""
    secret = hmac.new(key.private_bytes_raw(), _OPAQUE_LABEL, hashlib.sha256).digest()
    digest = hmac.new(secret, f"{purpose}\n{reference}".encode(), hashlib.sha256).digest()
    return uuid.UUID(bytes=digest[:16], version=4).urn


# --- the credential --------------------------------------------------------------------------------------------


def _texts(study: CompletedStudy) -> tuple[str, str]:
    """The achievement's description and its criteria's narrative, in the study's language."""
    at = f", {study.institution_name}" if study.institution_name else ""
    hours, attended, title, result = study.programme_hours, study.hours_attended, study.programme_title, study.result
    if study.language == "lv":
        level = f", DigComp līmenis {study.digcomp_level}" if study.digcomp_level else ""
        description = f"Izglītības programma “{title}”{at}: stundu skaits {hours}{level}."
        narrative = (
            "Mācības pabeigtas, kā izglītības iestāde tās ierakstījusi Prasmes mācību uzskaitē: "
            f"apmeklēto stundu skaits {attended} no {hours}, rezultāts: {result}."
        )
        return description, narrative
    level = f", DigComp proficiency level {study.digcomp_level}" if study.digcomp_level else ""
    description = f"The programme “{title}”{at}: {hours} hours{level}."
    narrative = (
        "The studies were completed, as the institution recorded them in the Prasmes study record: "
        f"{attended} of {hours} hours attended, result: {result}."
    )
    return description, narrative


def _alignment(level: int | None) -> list[dict[str, Any]]:
    if level is None:
        return []
    name = f"DigComp 2.2 proficiency level {level} ({DIGCOMP_BANDS.get(level, 'unknown')})"
    target = {"targetName": name, "targetUrl": DIGCOMP_URL, "targetFramework": DIGCOMP_FRAMEWORK}
    return [{"type": ["Alignment"], **target, "targetCode": str(level)}]


def _result_descriptions(study: CompletedStudy) -> list[dict[str, Any]]:
    """What the subject's results are of: the hours attended (at most the programme's), and the outcome."""
    kind = ["ResultDescription"]
    most = str(study.programme_hours)
    hours = {"name": "Hours attended", "resultType": "RawScore", "valueMin": "0", "valueMax": most}
    return [
        {"id": study.achievement_id + HOURS, "type": kind, **hours},
        {"id": study.achievement_id + OUTCOME, "type": kind, "name": "Result", "resultType": "Status"},
    ]


def _achievement(study: CompletedStudy) -> dict[str, Any]:
    description, narrative = _texts(study)
    creator: dict[str, Any] = {"id": study.institution_id, "type": ["Profile"]}
    if study.institution_name:
        creator["name"] = study.institution_name
    achievement: dict[str, Any] = {
        "id": study.achievement_id,
        "type": ["Achievement"],
        "achievementType": "Course",
        "name": study.programme_title,
        "description": description,
        "criteria": {"narrative": narrative},
        "creator": creator,
        "resultDescription": _result_descriptions(study),
    }
    if alignment := _alignment(study.digcomp_level):
        achievement["alignment"] = alignment
    return achievement


def _subject(study: CompletedStudy) -> dict[str, Any]:
    subject: dict[str, Any] = {"id": study.subject_id, "type": ["AchievementSubject"]}
    if study.learner_name:
        # Open Badges' IdentityObject in plain text: the learner's own document, shown by them to whom they choose.
        name = {"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": study.learner_name}
        subject["identifier"] = [name]
    hours = {"type": ["Result"], "resultDescription": study.achievement_id + HOURS, "value": str(study.hours_attended)}
    outcome = {"resultDescription": study.achievement_id + OUTCOME, "status": "Completed", "value": study.result}
    return {
        **subject,
        "achievement": _achievement(study),
        "activityStartDate": study.started_on.isoformat(),
        "activityEndDate": study.completed_on.isoformat(),
        "result": [hours, {"type": ["Result"], **outcome}],
    }


def _issuer(issuer: Issuer) -> dict[str, Any]:
    profile: dict[str, Any] = {"id": issuer.id, "type": ["Profile"], "name": issuer.name}
    return profile | ({"url": issuer.url} if issuer.url else {})


def build_credential(study: CompletedStudy, issuer: Issuer) -> dict[str, Any]:
    """The OpenBadgeCredential of `study`, unsigned. `study.valid_from` must carry its offset (whole seconds)."""
    if study.valid_from.tzinfo is None:
        raise ValueError("valid_from must carry its offset")
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": study.credential_id,
        "type": list(CREDENTIAL_TYPES),
        "name": study.programme_title,
        "issuer": _issuer(issuer),
        "validFrom": study.valid_from.replace(microsecond=0).isoformat(),
        "credentialSubject": _subject(study),
    }


# --- signing ---------------------------------------------------------------------------------------------------


def _issuer_id(credential: Mapping[str, Any]) -> object:
    issuer = credential.get("issuer")
    return issuer.get("id") if isinstance(issuer, Mapping) else issuer


def _subject_id(credential: Mapping[str, Any]) -> object:
    subject = credential.get("credentialSubject")
    return subject.get("id") if isinstance(subject, Mapping) else None


def _instant(credential: Mapping[str, Any], member: str) -> datetime | None:
    """The credential's `validFrom` or `validUntil` (None when absent); raise ValueError when it is no date-time
    with an offset."""
    value = credential.get(member)
    if value is None:
        return None
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        raise ValueError(f"{member} is not a date-time with an offset")
    return parsed


def _registered_claims(credential: Mapping[str, Any]) -> dict[str, Any]:
    """The JWT claims of Open Badges 3.0's JWT Payload Format (#jwt-proof, "Create the JWT Payload"): `iss` the
    issuer's id, `jti` the credential's id, `sub` the subject's id, `nbf` `validFrom`, `exp` `validUntil` if any."""
    valid_from, valid_until = _instant(credential, "validFrom"), _instant(credential, "validUntil")
    claims = {"iss": _issuer_id(credential), "jti": credential.get("id"), "sub": _subject_id(credential)}
    if not all(isinstance(v, str) and v for v in claims.values()) or valid_from is None:
        raise ValueError("a credential needs an id, an issuer's id, a subject's id and validFrom")
    claims["nbf"] = int(valid_from.timestamp())
    if valid_until is not None:
        claims["exp"] = int(valid_until.timestamp())
    return claims


def sign_credential(credential: Mapping[str, Any], key: Ed25519PrivateKey, kid: str) -> str:
    """The credential as a VC-JWT: a compact JWS whose payload is the credential with its JWT claims, signed with
    `key` (EdDSA), the header naming `kid` and `typ` vc+jwt (the media type application/vc+jwt of VC-JOSE-COSE).
    Open Badges 3.0 allows no other header parameter; it names `typ` "JWT", VC-JOSE-COSE `vc+jwt`: this follows
    VC-JOSE-COSE, which Open Badges 3.0 refers to for this format."""
    claims = {**credential, **_registered_claims(credential)}
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid, "typ": JOSE_TYPE})


# --- verification ----------------------------------------------------------------------------------------------


def _header(token: object) -> dict[str, Any]:
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        raise CredentialInvalid(Reason.MALFORMED, "not a JWS in compact serialization (three parts)")
    try:
        header: dict[str, Any] = jwt.get_unverified_header(token)
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise CredentialInvalid(Reason.MALFORMED, "the JOSE header is not a JSON object") from exc
    if header.get("alg") != ALGORITHM:
        raise CredentialInvalid(Reason.UNSUPPORTED_ALGORITHM, f"the algorithm must be {ALGORITHM}")
    if header.get("typ") != JOSE_TYPE:
        raise CredentialInvalid(Reason.UNSUPPORTED_TYPE, f"the header's typ must be {JOSE_TYPE}")
    if "jwk" in header:
        raise CredentialInvalid(Reason.UNKNOWN_KEY, "a key the credential carries itself proves nothing")
    if extra := sorted(set(header) - HEADER_PARAMETERS):
        raise CredentialInvalid(Reason.MALFORMED, f"header parameters not allowed: {', '.join(extra)[:200]}")
    return header


def _key(jwks: Mapping[str, Any], kid: object) -> Ed25519PublicKey:
    keys = jwks.get("keys")
    found = [k for k in keys if isinstance(k, Mapping) and k.get("kid") == kid] if isinstance(keys, list) else []
    if not isinstance(kid, str) or len(found) != 1:
        raise CredentialInvalid(Reason.UNKNOWN_KEY, "the credential names no key of the issuer's key set")
    try:
        key = jwt.PyJWK(dict(found[0]), algorithm=ALGORITHM).key
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise CredentialInvalid(Reason.UNKNOWN_KEY, "the key set's key is not an Ed25519 public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise CredentialInvalid(Reason.UNKNOWN_KEY, "the key set's key is not an Ed25519 public key")
    return key


_NO_CLAIM_CHECKS = {f"verify_{c}": False for c in ("exp", "nbf", "iat", "aud", "iss", "sub", "jti")}
"""The signature only: the claims are checked against the credential here, and the time against the `now` given."""


def _claims(token: str, key: Ed25519PublicKey) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(token, key, algorithms=[ALGORITHM], options=_NO_CLAIM_CHECKS)  # type: ignore[arg-type]
    except jwt.InvalidSignatureError as exc:
        raise CredentialInvalid(Reason.BAD_SIGNATURE, "the signature does not verify with the issuer's key") from exc
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise CredentialInvalid(Reason.MALFORMED, "the payload is not a JSON object") from exc
    return claims


def _credential(claims: Mapping[str, Any]) -> dict[str, Any]:
    credential = {k: v for k, v in claims.items() if k not in JWT_CLAIMS}
    types, context, subject = credential.get("type"), credential.get("@context"), credential.get("credentialSubject")
    is_badge = isinstance(types, list) and "VerifiableCredential" in types and not BADGE_TYPES.isdisjoint(types)
    contexts = context if isinstance(context, list) and context else [None]
    ob_context = any(isinstance(c, str) and c.startswith(OB_CONTEXT_PREFIX) for c in contexts)
    if not (is_badge and ob_context and contexts[0] == VC_CONTEXT):
        raise CredentialInvalid(Reason.NOT_OPEN_BADGE, "not an OpenBadgeCredential (its type or @context)")
    if not isinstance(subject, dict) or not isinstance(subject.get("achievement"), dict):
        raise CredentialInvalid(Reason.NOT_OPEN_BADGE, "not an OpenBadgeCredential: no subject with an achievement")
    return credential


def _numeric_date(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _agree(claims: Mapping[str, Any], credential: Mapping[str, Any]) -> tuple[datetime, datetime | None]:
    """Check the JWT claims against the credential (Open Badges 3.0, "Verify a Credential VC-JWT Signature",
    #jwt-verify-credential); answer its validity period."""
    try:
        expected = _registered_claims(credential)
        valid_from, valid_until = _instant(credential, "validFrom"), _instant(credential, "validUntil")
    except (ValueError, TypeError) as exc:
        raise CredentialInvalid(Reason.MALFORMED, f"the credential is incomplete: {exc}") from exc
    for claim in ("iss", "jti", "sub"):
        if claims.get(claim) != expected[claim]:
            raise CredentialInvalid(Reason.CLAIMS_MISMATCH, f"the claim {claim} does not match the credential")
    for claim, instant in (("nbf", valid_from), ("exp", valid_until)):
        given = _numeric_date(claims.get(claim))
        if (given is None) != (instant is None) or (instant is not None and given != instant.timestamp()):
            raise CredentialInvalid(Reason.CLAIMS_MISMATCH, f"the claim {claim} does not match the credential")
    assert valid_from is not None
    return valid_from, valid_until


def _in_time(valid_from: datetime, valid_until: datetime | None, now: datetime) -> None:
    if now < valid_from:
        raise CredentialInvalid(Reason.NOT_YET_VALID, f"the credential is valid from {valid_from.isoformat()}")
    if valid_until is not None and now >= valid_until:
        raise CredentialInvalid(Reason.EXPIRED, f"the credential was valid until {valid_until.isoformat()}")


def verify_credential(token: str, jwks: Mapping[str, Any], *, now: datetime | None = None) -> VerifiedCredential:
    """The credential of a VC-JWT signed with a key of `jwks`, valid at `now` (default: the current time); raise
    CredentialInvalid with the reason otherwise. Checked: the header (alg EdDSA, typ vc+jwt, a `kid` of the key
    set, no other parameter), the signature, that it is an OpenBadgeCredential, that its JWT claims agree with it,
    and its validity period."""
    header = _header(token)
    claims = _claims(token, _key(jwks, header.get("kid")))
    credential = _credential(claims)
    valid_from, valid_until = _agree(claims, credential)
    _in_time(valid_from, valid_until, now or datetime.now(UTC))
    return _verified(credential, str(header["kid"]))


# --- the facts of a verified credential ------------------------------------------------------------------------


def _at(value: object, *path: str) -> object:
    for member in path:
        value = value.get(member) if isinstance(value, Mapping) else None
    return value


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: object) -> int | None:
    return int(value) if isinstance(value, str) and value.isdecimal() and len(value) < 10 else None


def _items(value: object) -> Sequence[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _completed_on(value: object) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if isinstance(value, str) else None
    except ValueError:
        return None


def _verified(credential: dict[str, Any], kid: str) -> VerifiedCredential:
    subject = credential["credentialSubject"]
    achievement = subject["achievement"]
    hours = [d for d in _items(achievement.get("resultDescription")) if str(d.get("id", "")).endswith(HOURS)]
    attended = [r for r in _items(subject.get("result")) if str(r.get("resultDescription", "")).endswith(HOURS)]
    alignment = _items(achievement.get("alignment"))
    digcomp = [a for a in alignment if str(a.get("targetFramework", "")).startswith("DigComp")]
    return VerifiedCredential(
        credential=credential,
        kid=kid,
        issuer_id=str(_issuer_id(credential)),
        issuer_name=_text(_at(credential, "issuer", "name")),
        achievement_name=_text(achievement.get("name")),
        institution=_text(_at(achievement, "creator", "name")),
        hours=_number(hours[0].get("valueMax")) if hours else None,
        hours_attended=_number(attended[0].get("value")) if attended else None,
        digcomp_level=_number(digcomp[0].get("targetCode")) if digcomp else None,
        completed_on=_completed_on(subject.get("activityEndDate")),
    )
