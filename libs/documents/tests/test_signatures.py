"""The shared document checks: the same facts for catalog and calls (catalog's tests cover the damaged inputs)."""

from __future__ import annotations

import pytest
from prasmes_documents import signatures
from prasmes_runtime.errors import InvalidInput
from prasmes_testing import samples


def test_signed_and_time_stamped_documents_are_recognised() -> None:
    assert signatures.inspect(samples.pades_pdf()).signed_and_timestamped
    assert signatures.inspect(samples.asice_container(), filename="a.edoc").format == signatures.DocumentFormat.ASICE
    assert signatures.inspect(samples.plain_pdf(), require_signature=False).format == signatures.DocumentFormat.PDF


def test_an_unsigned_statement_is_refused_naming_the_rule() -> None:
    with pytest.raises(InvalidInput) as refused:
        signatures.inspect(samples.plain_pdf())
    assert (refused.value.violations[0].field, refused.value.violations[0].rule) == ("file", "signature_missing")
