"""The state registers behind one adapter: the register of education institutions and VIIS.

`Registers` is the port, in domain terms: it answers with the domain's `RegisteredInstitution`.
`FileRegisters` is the local implementation, fed from a seeded data file; a production adapter calling the
registers' services implements the same Protocol.
Other services ask catalog (GET /registers/institutions/{number}), never the data file.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from catalog.domain.providers import LicensedProgramme, RegisteredAddress, RegisteredInstitution

DEFAULT_DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "registers.json"


class Registers(Protocol):
    """What catalog needs of the state registers."""

    async def institution(self, register_number: str) -> RegisteredInstitution | None:
        """The institution with this number in the register of education institutions (with its
        licensed programmes and VIIS addresses), or None when the register does not know it."""
        ...


def _programme(raw: dict[str, Any]) -> LicensedProgramme:
    return LicensedProgramme(
        number=raw["licence_number"],
        licence_date=date.fromisoformat(raw["licence_date"]),
        title=raw["title"],
        hours=int(raw["hours"]),
        theory_hours=int(raw["theory_hours"]),
        practice_hours=int(raw["practice_hours"]),
        content_summary=raw["content_summary"],
        accredited=bool(raw.get("accredited", True)),
        kind=raw.get("kind", "professional_development"),
    )


def _institution(raw: dict[str, Any]) -> RegisteredInstitution:
    until = raw.get("accreditation_valid_until")
    return RegisteredInstitution(
        register_number=raw["register_number"],
        name=raw["name"],
        legal_address=raw["legal_address"],
        registration_date=date.fromisoformat(raw["registration_date"]),
        accredited=bool(raw["accredited"]),
        accreditation_valid_until=date.fromisoformat(until) if until else None,
        licensed_programmes=tuple(_programme(p) for p in raw.get("licensed_programmes", [])),
        addresses=tuple(RegisteredAddress(a["viis_id"], a["address"], a["city"]) for a in raw.get("addresses", [])),
    )


class FileRegisters:
    """The registers as a seeded JSON file (development, tests, demos)."""

    def __init__(self, path: Path = DEFAULT_DATA_FILE) -> None:
        raw = json.loads(path.read_text(encoding="utf-8"))
        self._by_number = {i["register_number"]: _institution(i) for i in raw["institutions"]}

    async def institution(self, register_number: str) -> RegisteredInstitution | None:
        return self._by_number.get(register_number.strip())

    def numbers(self) -> list[str]:
        return sorted(self._by_number)
