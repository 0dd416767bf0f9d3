"""Damaged uploads are refused by name, never answered with a 5xx.

A guard that stays in the suite: valid ASiC-E and PAdES samples damaged by seeded byte flips and truncations,
through the signature checks directly and through the HTTP API: every one is accepted (a flip in bytes nobody
reads) or refused as the domain refuses (a 422 on `file` naming the rule); nothing else is raised. Beside it,
the damages the probing found one by one: a bad CRC, a deflate error, an encrypted entry, an unknown
compression method, a digest algorithm nobody knows, a signing time without a zone.
"""

from __future__ import annotations

import io
import random
import re
import struct
import zipfile
from collections.abc import Iterator
from datetime import datetime

import pytest
from asn1crypto import algos, cms
from catalog.adapters import signatures
from catalog.adapters.signatures import Inspection
from prasmes_runtime.errors import InvalidInput
from prasmes_testing import samples

from .conftest import API, Catalog

COUNT = 200
"""Damaged copies per sample (a bounded number: the RNG is seeded, every run tries the same ones)."""
SAMPLES = {
    "asice": (samples.asice_container(), "apliecinajums.edoc"),
    "pades": (samples.pades_pdf(), "apliecinajums.pdf"),
    "pades-document-timestamp": (samples.pades_pdf(timestamp="document"), "apliecinajums.pdf"),
}
INTERNALS = re.compile(r"Error|Exception|Traceback|object at|b'")
"""What a refusal's message never shows: exception names and texts, Python reprs, bytes literals (entry names
from the damaged container itself may appear, and may hold anything)."""


def damaged(sample: bytes, count: int = COUNT, seed: int = 2026) -> Iterator[bytes]:
    """`count` damaged copies of `sample`: every fourth cut short, the others with one to three bits flipped."""
    rng = random.Random(seed)
    for i in range(count):
        if i % 4 == 3:
            yield sample[: rng.randrange(len(sample))]
            continue
        copy = bytearray(sample)
        for _ in range(rng.randint(1, 3)):
            copy[rng.randrange(len(copy))] ^= 1 << rng.randrange(8)
        yield bytes(copy)


def _storable(inspection: Inspection) -> None:
    for moment in (inspection.signing_time, inspection.timestamp_time):
        assert moment is None or (isinstance(moment, datetime) and moment.utcoffset() is not None)


def _refusal(content: bytes, **kwargs: object) -> tuple[str, str, str]:
    with pytest.raises(InvalidInput) as caught:
        signatures.inspect(content, **kwargs)  # type: ignore[arg-type]
    violation = caught.value.violations[0]
    assert not INTERNALS.search(violation.message), violation.message
    return violation.field, violation.rule, violation.message


# --------------------------------------------------------------------------- the guard


@pytest.mark.parametrize("kind", SAMPLES)
def test_damaged_documents_are_refused_by_name_and_nothing_else_is_raised(kind: str) -> None:
    sample, filename = SAMPLES[kind]
    accepted = 0
    for content in damaged(sample):
        try:
            _storable(signatures.inspect(content, filename=filename))
            accepted += 1
        except InvalidInput as refused:
            (violation,) = refused.violations
            assert violation.field == "file"
            assert not INTERNALS.search(violation.message), violation.message
    assert accepted < COUNT / 2  # most damage is noticed


@pytest.mark.parametrize("kind", ["asice", "pades"])
async def test_damaged_uploads_get_a_422_on_file_never_a_5xx(catalog: Catalog, kind: str) -> None:
    sample, filename = SAMPLES[kind]
    statuses: set[int] = set()
    for content in damaged(sample, seed=7):
        response = await catalog.upload("liga", "statement", content, filename)
        statuses.add(response.status_code)
        assert response.status_code in (201, 422), response.text
        if response.status_code == 422:
            assert response.json()["errors"][0]["field"] == "file", response.text
    assert 422 in statuses


# --------------------------------------------------------------------------- ZIP damage, one by one


def _central_records(content: bytes) -> Iterator[tuple[int, str]]:
    """(offset, name) of every central directory record."""
    offset = content.index(b"PK\x01\x02")
    while content[offset : offset + 4] == b"PK\x01\x02":
        name_length, extra_length, comment_length = struct.unpack("<HHH", content[offset + 28 : offset + 34])
        yield offset, content[offset + 46 : offset + 46 + name_length].decode()
        offset += 46 + name_length + extra_length + comment_length


def _patched(content: bytes, entry: str, field_offset: int, value: int) -> bytes:
    """The container with a 2-byte field of `entry`'s central directory record (and its local header) set."""
    patched = bytearray(content)
    info = zipfile.ZipFile(io.BytesIO(content)).getinfo(entry)
    local_offset = {8: 6, 10: 8}[field_offset]  # flag bits, compression method
    struct.pack_into("<H", patched, info.header_offset + local_offset, value)
    central = next(offset for offset, name in _central_records(content) if name == entry)
    struct.pack_into("<H", patched, central + field_offset, value)
    return bytes(patched)


def _data_offset(content: bytes, entry: str) -> tuple[int, int]:
    info = zipfile.ZipFile(io.BytesIO(content)).getinfo(entry)
    name_length, extra_length = struct.unpack("<HH", content[info.header_offset + 26 : info.header_offset + 30])
    return info.header_offset + 30 + name_length + extra_length, info.compress_size


def _rebuilt(content: bytes, changed: dict[str, bytes], compression: int | None = None) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for entry in source.infolist():
            data = changed.get(entry.filename, source.read(entry))
            method = entry.compress_type if compression is None or entry.filename == "mimetype" else compression
            archive.writestr(zipfile.ZipInfo(entry.filename, entry.date_time), data, method)
    return buffer.getvalue()


def test_an_entry_whose_crc_does_not_match_is_named() -> None:
    stored = _rebuilt(samples.asice_container(), {}, zipfile.ZIP_STORED)
    start, size = _data_offset(stored, "apliecinajums.pdf")
    damaged_copy = bytearray(stored)
    damaged_copy[start + size // 2] ^= 0x20
    field, rule, message = _refusal(bytes(damaged_copy))
    assert (field, rule) == ("file", "entry_damaged")
    assert "apliecinajums.pdf" in message and "checksum" in message


def test_an_entry_that_does_not_inflate_is_named() -> None:
    container = samples.asice_container()
    start, size = _data_offset(container, "META-INF/signatures0.xml")
    broken = container[:start] + b"\xff" * size + container[start + size :]
    field, rule, message = _refusal(broken)
    assert (field, rule) == ("file", "entry_damaged")
    assert "META-INF/signatures0.xml" in message


def test_an_encrypted_entry_is_refused() -> None:
    container = samples.asice_container()
    info = zipfile.ZipFile(io.BytesIO(container)).getinfo("apliecinajums.pdf")
    field, rule, message = _refusal(_patched(container, "apliecinajums.pdf", 8, info.flag_bits | 0x1))
    assert (field, rule) == ("file", "encrypted")
    assert "apliecinajums.pdf" in message


@pytest.mark.parametrize("method", [99, zipfile.ZIP_LZMA])
def test_a_compression_method_other_than_stored_or_deflated_is_refused(method: int) -> None:
    field, rule, message = _refusal(_patched(samples.asice_container(), "apliecinajums.pdf", 10, method))
    assert (field, rule) == ("file", "compression")
    assert "apliecinajums.pdf" in message


def test_a_signing_time_without_a_zone_is_not_kept_as_an_instant() -> None:
    container = samples.asice_container()
    xml = zipfile.ZipFile(io.BytesIO(container)).read("META-INF/signatures0.xml")
    zoneless = re.sub(rb"(<xades:SigningTime>[^<]*?)Z<", rb"\1<", xml)
    assert zoneless != xml
    inspection = signatures.inspect(_rebuilt(container, {"META-INF/signatures0.xml": zoneless}))
    assert inspection.signing_time is None
    _storable(inspection)


async def test_a_container_with_a_zoneless_signing_time_is_stored(catalog: Catalog) -> None:
    container = samples.asice_container()
    xml = zipfile.ZipFile(io.BytesIO(container)).read("META-INF/signatures0.xml")
    zoneless = re.sub(rb"(<xades:SigningTime>[^<]*?)Z<", rb"\1<", xml)
    content = _rebuilt(container, {"META-INF/signatures0.xml": zoneless})
    response = await catalog.upload("liga", "statement", content, "apliecinajums.edoc")
    assert response.status_code == 201, response.text
    assert response.json()["signing_time"] is None
    stored = await catalog.client.get(f"{API}/documents/{response.json()['id']}", headers=catalog.user("liga"))
    assert stored.status_code == 200


# --------------------------------------------------------------------------- PDF damage, one by one


def _with_cms(pdf: bytes, change: object) -> bytes:
    start = pdf.index(b"/Contents <") + len(b"/Contents <")
    end = pdf.index(b">", start)
    info = cms.ContentInfo.load(bytes.fromhex(pdf[start:end].decode()))
    change(info["content"]["signer_infos"][0])  # type: ignore[operator]
    changed: bytes = info.dump(force=True).hex().encode().ljust(end - start, b"0")
    assert len(changed) == end - start
    return pdf[:start] + changed + pdf[end:]


def test_a_digest_algorithm_nobody_knows_is_refused_by_name() -> None:
    def unknown_digest(signer: cms.SignerInfo) -> None:
        signer["digest_algorithm"] = algos.DigestAlgorithm({"algorithm": "1.2.3.4.5"})

    field, rule, _ = _refusal(_with_cms(samples.pades_pdf(), unknown_digest))
    assert (field, rule) == ("file", "digest_algorithm")


def test_a_weak_digest_algorithm_is_refused_by_name() -> None:
    def md5(signer: cms.SignerInfo) -> None:
        signer["digest_algorithm"] = algos.DigestAlgorithm({"algorithm": "md5"})

    assert _refusal(_with_cms(samples.pades_pdf(), md5))[:2] == ("file", "digest_algorithm")
