"""The registers (education institutions, their licensed programmes, VIIS addresses), as catalog serves them:

    GET {catalog_url}/registers/institutions/{number}      (a provider's or the agency's bearer token)
        200 {"register_number", "registration_date", "accredited", "accreditation_valid_until",
             "licensed_programmes": [{"licence_number", "licence_date", "title", "hours", "theory_hours",
                                      "practice_hours", "accredited", "kind", ...}],
             "addresses": [{"viis_id", "address", "city"}], ...}
        404 the register does not know the number

The caller's own token is forwarded (catalog decides whom it answers); an answer is kept for 30 s per number (the
checks run on every view of the checks page). Anything else (no connection, a timeout,
another status, an answer of another shape) is `Unavailable` (503): no check is run on a guess.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from prasmes_runtime.client import SharedClient
from prasmes_runtime.errors import Unavailable
from prasmes_runtime.logging import get_logger

from calls.domain.institutions import LicensedProgramme, RegisteredAddress, RegisteredInstitution

log = get_logger(__name__)
UNAVAILABLE = "the registers (through catalog) do not answer; try again later"
REGISTER_MAX_AGE_SECONDS = 30.0
KEPT_AT_MOST = 10_000


class Registers(Protocol):
    async def institution(self, register_number: str, token: str) -> RegisteredInstitution | None:
        """The institution with this number in the register, or None when the register does not know it."""
        ...


class HttpRegisters:
    """Catalog's extract over HTTP. An answer (found or not) is kept for `max_age` seconds per register number: the
    checks page runs every check on each view, and a register changes over days, not seconds. A failure is never
    kept. Whom an answer may be shown to, calls has decided before it asks (the offer's institution or the agency)."""

    def __init__(
        self,
        catalog_url: str,
        *,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_age: float = REGISTER_MAX_AGE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = catalog_url.rstrip("/")
        self._http = SharedClient(timeout=timeout, transport=transport)
        self._max_age = max_age
        self._monotonic = monotonic
        self._kept: dict[str, tuple[float, RegisteredInstitution | None]] = {}

    async def institution(self, register_number: str, token: str) -> RegisteredInstitution | None:
        number = register_number.strip()
        kept = self._kept.get(number)
        if kept is not None and kept[0] > self._monotonic():
            return kept[1]
        found = await self._read(number, token)
        if len(self._kept) >= KEPT_AT_MOST:
            self._kept.clear()
        self._kept[number] = (self._monotonic() + self._max_age, found)
        return found

    async def _read(self, register_number: str, token: str) -> RegisteredInstitution | None:
        url = f"{self._url}/registers/institutions/{quote(register_number, safe='')}"
        try:
            response = await self._http.client().get(url, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            log.warning("registers.unreachable", error=type(exc).__name__)
            raise Unavailable(UNAVAILABLE) from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            log.warning("registers.refused", status=response.status_code)
            raise Unavailable(UNAVAILABLE)
        try:
            return registered_institution(response.json())
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("registers.unexpected_answer", error=type(exc).__name__)
            raise Unavailable(UNAVAILABLE) from exc


def registered_institution(raw: Mapping[str, Any]) -> RegisteredInstitution:
    until = raw.get("accreditation_valid_until")
    return RegisteredInstitution(
        register_number=str(raw["register_number"]),
        registration_date=date.fromisoformat(raw["registration_date"]),
        accredited=bool(raw["accredited"]),
        accreditation_valid_until=date.fromisoformat(until) if until else None,
        licensed_programmes=tuple(_licence(p) for p in raw["licensed_programmes"]),
        addresses=tuple(
            RegisteredAddress(str(a["viis_id"]), str(a["address"]), str(a["city"])) for a in raw["addresses"]
        ),
    )


def _licence(raw: Mapping[str, Any]) -> LicensedProgramme:
    return LicensedProgramme(
        licence_number=str(raw["licence_number"]),
        licence_date=date.fromisoformat(raw["licence_date"]),
        title=str(raw["title"]),
        hours=int(raw["hours"]),
        theory_hours=int(raw["theory_hours"]),
        practice_hours=int(raw["practice_hours"]),
        accredited=bool(raw["accredited"]),
        kind=str(raw["kind"]),
    )


@dataclass
class StaticRegisters:
    """The registers as a fixed set of catalog-shaped answers (tests and demos); `answers=False` is an outage."""

    institutions: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    answers: bool = True
    tokens: list[str] = field(default_factory=list)

    async def institution(self, register_number: str, token: str) -> RegisteredInstitution | None:
        if not self.answers:
            raise Unavailable(UNAVAILABLE)
        self.tokens.append(token)
        raw = self.institutions.get(register_number.strip())
        return None if raw is None else registered_institution(raw)
