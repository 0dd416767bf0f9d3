"""Uploaded documents are judged by their content: ASiC-E containers and PAdES PDFs, signed and time-stamped."""

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from asn1crypto import cms
from catalog.adapters import signatures
from catalog.adapters.signatures import DocumentFormat
from prasmes_runtime.errors import InvalidInput
from prasmes_testing import samples


def _refusal(content: bytes, **kwargs: object) -> tuple[str, str]:
    with pytest.raises(InvalidInput) as caught:
        signatures.inspect(content, **kwargs)  # type: ignore[arg-type]
    violation = caught.value.violations[0]
    return violation.field, violation.rule


@pytest.mark.parametrize(
    ("content", "filename", "expected"),
    [
        (samples.asice_container(), "apliecinajums.edoc", DocumentFormat.ASICE),
        (samples.asice_container(), "apliecinajums.asice", DocumentFormat.ASICE),
        (samples.pades_pdf(), "apliecinajums.pdf", DocumentFormat.PADES),
        (samples.pades_pdf(timestamp="document"), "apliecinajums.pdf", DocumentFormat.PADES),
    ],
)
def test_signed_and_time_stamped_statements_are_accepted(
    content: bytes, filename: str, expected: DocumentFormat
) -> None:
    inspection = signatures.inspect(content, filename=filename)
    assert inspection.format == expected
    assert inspection.signatures == 1 and inspection.timestamps == 1
    assert inspection.timestamp_time is not None


def test_the_asice_signature_covers_the_statement_file() -> None:
    assert signatures.inspect(samples.asice_container()).signed_files == ("apliecinajums.pdf",)


def test_a_plain_pdf_is_a_curriculum_but_not_a_statement() -> None:
    assert signatures.inspect(samples.plain_pdf(), require_signature=False).format == DocumentFormat.PDF
    assert _refusal(samples.plain_pdf()) == ("file", "signature_missing")


@pytest.mark.parametrize(
    ("content", "filename", "rule"),
    [
        (b"Es apliecinu, ka lietosim platformu.\n", "apliecinajums.pdf", "file_type"),
        (b"Es apliecinu, ka lietosim platformu.\n", "apliecinajums.edoc", "file_type"),
        (samples.asice_container(), "apliecinajums.pdf", "matches_content"),
        (samples.pades_pdf(), "apliecinajums.edoc", "matches_content"),
        (samples.pades_pdf(), "apliecinajums.docx", "extension"),
        (b"", "apliecinajums.pdf", "required"),
    ],
)
def test_files_that_are_not_what_they_claim_are_refused(content: bytes, filename: str, rule: str) -> None:
    assert _refusal(content, filename=filename) == ("file", rule)


def test_the_declared_media_type_must_match_the_content() -> None:
    assert _refusal(samples.asice_container(), declared_type="application/pdf") == ("file", "matches_content")
    assert signatures.inspect(samples.pades_pdf(), declared_type="application/pdf; charset=binary").signatures == 1


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (samples.pades_pdf(timestamp="none"), "timestamp_missing"),
        (samples.asice_container(timestamped=False), "timestamp_missing"),
        (samples.asice_container(signed=False), "signature_missing"),
        (samples.asice_container(mimetype_first=False), "asic_mimetype"),
        (samples.asice_container(tamper=True), "digest_mismatch"),
    ],
)
def test_what_is_missing_is_named(content: bytes, rule: str) -> None:
    assert _refusal(content) == ("file", rule)


def test_a_pdf_changed_after_signing_is_refused() -> None:
    signed = samples.pades_pdf()
    changed = signed.replace(b"Apliecinajums par platformas lietosanu", b"APLIECINAJUMS PAR PLATFORMAS LIETOSANU")
    assert len(changed) == len(signed)
    assert _refusal(changed) == ("file", "digest_mismatch")


def test_a_forged_signature_value_is_refused() -> None:
    signed = samples.pades_pdf()
    start = signed.index(b"/Contents <") + len(b"/Contents <")
    end = signed.index(b">", start)
    info = cms.ContentInfo.load(bytes.fromhex(signed[start:end].decode()))
    signer = info["content"]["signer_infos"][0]
    value = bytearray(signer["signature"].native)
    value[-1] ^= 0x01
    signer["signature"] = bytes(value)
    forged_hex = info.dump(force=True).hex().encode().ljust(end - start, b"0")
    assert len(forged_hex) == end - start
    assert _refusal(signed[:start] + forged_hex + signed[end:]) == ("file", "signature_invalid")


def test_a_truncated_pdf_is_refused() -> None:
    assert _refusal(samples.pades_pdf()[:-2000]) == ("file", "format")


def test_a_compressed_mimetype_entry_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", b"application/vnd.etsi.asic-e+zip")
        archive.writestr("a.pdf", samples.plain_pdf())
    assert _refusal(buffer.getvalue()) == ("file", "asic_mimetype")


def test_malformed_signature_xml_is_refused() -> None:
    source = zipfile.ZipFile(io.BytesIO(samples.asice_container()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename.startswith("META-INF/signatures"):
                data = data[: len(data) // 2]
            archive.writestr(entry, data)
    assert _refusal(buffer.getvalue()) == ("file", "format")


def test_a_container_whose_statement_is_stored_uncompressed_is_a_container() -> None:
    """Its first bytes hold "%PDF-" of the stored statement: the ZIP signature decides, not that."""
    source = zipfile.ZipFile(io.BytesIO(samples.asice_container()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for entry in source.infolist():
            archive.writestr(entry.filename, source.read(entry))
    assert b"%PDF-" in buffer.getvalue()[:1024]
    inspection = signatures.inspect(buffer.getvalue(), filename="apliecinajums.edoc")
    assert (inspection.format, inspection.signatures, inspection.timestamps) == (DocumentFormat.ASICE, 1, 1)


def test_a_zip_that_is_not_a_container_is_refused() -> None:
    assert _refusal(b"PK\x03\x04" + b"\x00" * 100) == ("file", "format")


def test_inspection_works_in_a_process_that_never_built_a_sample(tmp_path: Path) -> None:
    """The service process imports only `signatures`: time-stamp tokens must parse there too."""
    (tmp_path / "a.pdf").write_bytes(samples.pades_pdf())
    (tmp_path / "a.edoc").write_bytes(samples.asice_container())
    script = (
        "import sys; from catalog.adapters import signatures as s; "
        "print(*(s.inspect(open(p, 'rb').read()).timestamps for p in sys.argv[1:]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "a.pdf"), str(tmp_path / "a.edoc")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "1"]
