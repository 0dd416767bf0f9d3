"""What an uploaded document really is, judged by its content (never by its name): a PDF, a PAdES-signed
PDF, or an ASiC-E container (.edoc/.asice) with XAdES signatures. Pure Python: bytes in, facts out.

Checked: the container or PDF is well formed; it holds a signature and a time stamp; the signed bytes
still match the digests the signature covers; a CMS signature's value verifies with the certificate it
carries. Not checked here: whether the certificate is qualified and trusted (the EU trusted lists) and
the XAdES SignatureValue (it needs exclusive XML canonicalisation): that is a qualified validation
service's job (e.g. DSS), behind this same step when the platform connects to one.

Damaged input (a bad CRC, a deflate error, an encrypted entry, an unknown compression method, a PDF or a CMS
structure that does not parse, a digest algorithm nobody accepts) is a refusal naming what is wrong, never an
exception of the parsers: they are called inside `_unreadable`, which turns what they raise (`MALFORMED`) into
the domain's 422 without their own words. A guard test fuzzes valid samples to keep it so.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree

from asn1crypto import cms, tsp, x509
from cryptography import x509 as cx509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from prasmes_runtime.errors import InvalidInput
from pypdf import PdfReader
from pypdf.errors import DependencyError, PyPdfError
from pypdf.generic import DictionaryObject

from prasmes_documents import pdf_hex

pdf_hex.install()

FIELD = "file"
ASICE_MIMETYPE = b"application/vnd.etsi.asic-e+zip"
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
MAX_ENTRIES = 500
CMS_SUBFILTERS = ("/ETSI.CAdES.detached", "/adbe.pkcs7.detached")
TIMESTAMP_SUBFILTER = "/ETSI.RFC3161"
XML_DIGESTS = {
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
}
EXTENSIONS = {".pdf": "pdf", ".edoc": "zip", ".asice": "zip", ".sce": "zip", ".bdoc": "zip"}
MEDIA_TYPES = {"application/pdf": "pdf", "application/vnd.etsi.asic-e+zip": "zip", "application/zip": "zip"}
ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
"""The compression methods of an ASiC-E container's entries (ETSI EN 319 162-1: stored or deflated)."""
ZIP_ENCRYPTED = 0x1 | 0x40
"""General purpose flag bits of an encrypted entry (traditional and strong encryption)."""
DIGESTS = ("sha256", "sha384", "sha512")
"""Digest algorithms accepted for what a signature or a time stamp covers (SHA-256 or stronger)."""
MALFORMED: tuple[type[Exception], ...] = (
    ValueError,  # asn1crypto's parse errors, binascii, struct, unicode
    TypeError,
    LookupError,
    AttributeError,
    ArithmeticError,
    EOFError,
    NotImplementedError,
    RecursionError,
    struct.error,
    zlib.error,
    zipfile.BadZipFile,
    ElementTree.ParseError,
    UnsupportedAlgorithm,
    PyPdfError,
    DependencyError,
)
"""What the parsers (zipfile, zlib, expat, pypdf, asn1crypto, cryptography) raise on damaged input. Caught only
around their calls, and answered as a 422 naming what could not be read, never with their own words."""


class DocumentFormat(StrEnum):
    PDF = "pdf"
    """A PDF without a signature (accepted for a curriculum, not for a signed statement)."""
    PADES = "pades"
    ASICE = "asice"


MEDIA_TYPE_OF = {
    DocumentFormat.PDF: "application/pdf",
    DocumentFormat.PADES: "application/pdf",
    DocumentFormat.ASICE: "application/vnd.etsi.asic-e+zip",
}


@dataclass(frozen=True)
class Inspection:
    format: DocumentFormat
    signatures: int
    timestamps: int
    signing_time: datetime | None = None
    timestamp_time: datetime | None = None
    signed_files: tuple[str, ...] = ()

    @property
    def media_type(self) -> str:
        return MEDIA_TYPE_OF[self.format]

    @property
    def signed_and_timestamped(self) -> bool:
        return self.signatures > 0 and self.timestamps > 0


def _refuse(rule: str, message: str) -> InvalidInput:
    return InvalidInput.of(FIELD, rule, message)


@contextmanager
def _unreadable(rule: str, message: str) -> Iterator[None]:
    """Damaged input inside: what the parsers raise becomes the refusal `rule` with `message`."""
    try:
        yield
    except MALFORMED:
        raise _refuse(rule, message) from None


def _instant(value: object) -> datetime | None:
    """A moment the platform can keep: timezone-aware, in UTC; None for a time without a zone or out of range."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        return None
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def inspect(
    content: bytes,
    *,
    filename: str | None = None,
    declared_type: str | None = None,
    require_signature: bool = True,
) -> Inspection:
    """Facts about the document, or a 422 on `file` naming what is wrong or missing."""
    if not content:
        raise _refuse("required", "the file is empty")
    kind = _sniff(content)
    _check_claims(kind, filename, declared_type)
    inspection = _inspect_pdf(content) if kind == "pdf" else _inspect_asice(content)
    if require_signature:
        if inspection.signatures == 0:
            raise _refuse("signature_missing", "the document carries no electronic signature")
        if inspection.timestamps < inspection.signatures:
            raise _refuse("timestamp_missing", "the signature carries no time stamp (a qualified time stamp is needed)")
    return inspection


def _sniff(content: bytes) -> str:
    # The ZIP signature first: a container whose statement PDF is stored uncompressed has "%PDF-" near its start.
    if content.startswith(b"PK\x03\x04"):
        return "zip"
    if b"%PDF-" in content[:1024]:
        return "pdf"
    raise _refuse("file_type", "the content is neither a PDF nor an ASiC-E container (.edoc/.asice)")


def _check_claims(kind: str, filename: str | None, declared_type: str | None) -> None:
    if filename:
        suffix = ("." + filename.rsplit(".", 1)[-1].lower()) if "." in filename else ""
        claimed = EXTENSIONS.get(suffix)
        if claimed is None:
            raise _refuse("extension", "the file name must end in .pdf, .edoc or .asice")
        if claimed != kind:
            raise _refuse("matches_content", f"the file is named {suffix} but its content is a {_describe(kind)}")
    media_type = (declared_type or "").split(";", 1)[0].strip().lower()
    claimed_type = MEDIA_TYPES.get(media_type)
    if claimed_type is not None and claimed_type != kind:
        raise _refuse("matches_content", f"sent as {media_type} but the content is a {_describe(kind)}")


def _describe(kind: str) -> str:
    return "PDF" if kind == "pdf" else "ZIP/ASiC-E container"


# --------------------------------------------------------------------------- ASiC-E


def _inspect_asice(content: bytes) -> Inspection:
    with _unreadable("format", "not a readable ZIP container (damaged or cut short)"):
        archive = zipfile.ZipFile(io.BytesIO(content))
        entries = archive.infolist()
    if len(entries) > MAX_ENTRIES or sum(e.file_size for e in entries) > MAX_UNPACKED_BYTES:
        raise _refuse("format", "the container holds too many or too large files")
    files = _unpacked(archive, entries)
    _check_mimetype(entries, files)
    signature_files = [e.filename for e in entries if re.fullmatch(r"META-INF/[^/]*signatures[^/]*\.xml", e.filename)]
    data_files = {
        e.filename
        for e in entries
        if not e.is_dir() and e.filename != "mimetype" and not e.filename.startswith("META-INF/")
    }
    if not data_files:
        raise _refuse("signed_document_missing", "the container holds no signed document")
    if not signature_files:
        raise _refuse("signature_missing", "the container has no META-INF/signatures*.xml")
    facts = [_xades(files, name, data_files) for name in signature_files]
    signed = tuple(sorted({f for fact in facts for f in fact.signed_files}))
    return Inspection(
        format=DocumentFormat.ASICE,
        signatures=sum(f.signatures for f in facts),
        timestamps=sum(f.timestamps for f in facts),
        signing_time=next((f.signing_time for f in facts if f.signing_time), None),
        timestamp_time=next((f.timestamp_time for f in facts if f.timestamp_time), None),
        signed_files=signed,
    )


def _unpacked(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo]) -> dict[str, bytes]:
    """Every entry's content, each checked whole: not encrypted, stored or deflated, and matching its CRC."""
    for entry in entries:
        if entry.flag_bits & ZIP_ENCRYPTED:
            raise _refuse(
                "encrypted", f"the container's entry {entry.filename} is encrypted: a signed container is not"
            )
        if entry.compress_type not in ZIP_METHODS:
            raise _refuse(
                "compression", f"the container's entry {entry.filename} is compressed otherwise than stored or deflated"
            )
    return {entry.filename: _entry(archive, entry) for entry in entries}


def _entry(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> bytes:
    damaged = f"the container's entry {entry.filename}"
    try:
        return archive.read(entry)
    except zlib.error:
        raise _refuse("entry_damaged", f"{damaged} cannot be decompressed: it is damaged") from None
    except zipfile.BadZipFile as exc:
        what = "does not match its checksum" if "CRC" in str(exc) else "has a damaged header"
        raise _refuse("entry_damaged", f"{damaged} {what}") from None
    except MALFORMED:
        raise _refuse("entry_damaged", f"{damaged} cannot be read: it is damaged or cut short") from None


def _check_mimetype(entries: list[zipfile.ZipInfo], files: dict[str, bytes]) -> None:
    first = entries[0] if entries else None
    if first is None or first.filename != "mimetype":
        raise _refuse("asic_mimetype", "an ASiC-E container starts with a 'mimetype' entry")
    if first.compress_type != zipfile.ZIP_STORED or files["mimetype"].strip() != ASICE_MIMETYPE:
        raise _refuse("asic_mimetype", f"the 'mimetype' entry must be stored uncompressed as {ASICE_MIMETYPE.decode()}")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _descendants(element: ElementTree.Element, name: str) -> Iterator[ElementTree.Element]:
    return (e for e in element.iter() if _local(e.tag) == name)


def _first_text(element: ElementTree.Element, name: str) -> str:
    found = next(_descendants(element, name), None)
    return "".join(found.itertext()).strip() if found is not None else ""


def _xades(files: dict[str, bytes], name: str, data_files: set[str]) -> Inspection:
    with _unreadable("format", f"{name} is not well-formed XML"):
        root = ElementTree.fromstring(files[name])
    signatures = list(_descendants(root, "Signature"))
    signed: set[str] = set()
    timestamps = 0
    timestamp_time = None
    for signature in signatures:
        signed |= _check_xml_signature(files, name, signature, data_files)
        token = _first_text(signature, "EncapsulatedTimeStamp") if _has(signature, "SignatureTimeStamp") else ""
        if token:
            timestamp_time = _timestamp_time(_b64(token, f"{name}: the time stamp"))
            timestamps += 1
    return Inspection(
        DocumentFormat.ASICE,
        signatures=len(signatures),
        timestamps=timestamps,
        signing_time=_xml_time(_first_text(root, "SigningTime")),
        timestamp_time=timestamp_time,
        signed_files=tuple(sorted(signed)),
    )


def _has(element: ElementTree.Element, name: str) -> bool:
    return next(_descendants(element, name), None) is not None


def _check_xml_signature(
    files: dict[str, bytes], name: str, signature: ElementTree.Element, data_files: set[str]
) -> set[str]:
    if not _first_text(signature, "SignatureValue"):
        raise _refuse("signature_missing", f"{name}: a ds:Signature without a SignatureValue")
    certificate = _b64(_first_text(signature, "X509Certificate"), f"{name}: the signer's certificate")
    with _unreadable("signature_malformed", f"{name}: the signer's certificate cannot be read"):
        x509.Certificate.load(certificate).native  # noqa: B018
    covered = set()
    for reference in _descendants(signature, "Reference"):
        uri = unquote(reference.get("URI", ""))
        if not uri or uri.startswith("#"):
            continue  # the signed properties, inside the signature itself
        if uri not in data_files:
            raise _refuse("signature_malformed", f"{name} signs {uri}, which is not in the container")
        _check_reference(files, name, uri, reference)
        covered.add(uri)
    if not covered:
        raise _refuse("signature_malformed", f"{name}: the signature covers no document of the container")
    return covered


def _check_reference(files: dict[str, bytes], name: str, uri: str, reference: ElementTree.Element) -> None:
    method = next(_descendants(reference, "DigestMethod"), None)
    algorithm = XML_DIGESTS.get(method.get("Algorithm", "") if method is not None else "")
    if algorithm is None:
        raise _refuse("digest_algorithm", f"{name}: {uri} is digested with an algorithm not accepted (SHA-256+)")
    expected = _b64(_first_text(reference, "DigestValue"), f"{name}: the digest of {uri}")
    if hashlib.new(algorithm, files[uri]).digest() != expected:
        raise _refuse("digest_mismatch", f"{uri} was changed after it was signed")


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _refuse("signature_malformed", f"{what} is not base64") from None


def _xml_time(text: str) -> datetime | None:
    try:
        return _instant(datetime.fromisoformat(text.replace("Z", "+00:00"))) if text else None
    except ValueError:
        return None


# --------------------------------------------------------------------------- time stamps (RFC 3161)


TST_INFO_OID = "1.2.840.113549.1.9.16.1.4"


def _tst_info(der: bytes) -> tsp.TSTInfo:
    """The TSTInfo of an RFC 3161 time-stamp token (parsed explicitly: not every process has asn1crypto's
    tsp module registered for this content type)."""
    with _unreadable("timestamp_malformed", "the time stamp is not a readable RFC 3161 token"):
        info = cms.ContentInfo.load(der)
        encapsulated = info["content"]["encap_content_info"] if info["content_type"].native == "signed_data" else None
        if encapsulated is None or encapsulated["content_type"].dotted != TST_INFO_OID:
            raise _refuse("timestamp_malformed", "the time stamp is not an RFC 3161 time-stamp token")
        content = encapsulated["content"]
        raw = content.parsed.dump() if isinstance(content.parsed, tsp.TSTInfo) else bytes(content.contents)
        tst_info = tsp.TSTInfo.load(raw)
        tst_info.native  # noqa: B018  (parses it whole here, not later in a caller)
        return tst_info


def _timestamp_time(der: bytes) -> datetime:
    at = _instant(_tst_info(der)["gen_time"].native)
    if at is None:
        raise _refuse("timestamp_malformed", "the time stamp's time cannot be read")
    return at


# --------------------------------------------------------------------------- PAdES


@dataclass(frozen=True)
class _PdfSignature:
    """What a signature dictionary of a PDF holds, read out of pypdf's objects."""

    subfilter: str
    der: bytes
    byte_range: tuple[int, ...] | None


def _inspect_pdf(content: bytes) -> Inspection:
    if b"%%EOF" not in content[-2048:]:
        raise _refuse("format", "not a well-formed PDF: no end-of-file marker (cut short?)")
    with _unreadable("format", "not a well-formed PDF: its structure cannot be read (damaged?)"):
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            raise _refuse("encrypted", "the PDF is encrypted: a signed statement is not")
        if len(reader.pages) == 0:
            raise _refuse("format", "the PDF has no pages")
        found = [_pdf_signature_of(dictionary) for dictionary in _signature_dictionaries(reader)]
    signatures = timestamps = 0
    signing_time = timestamp_time = None
    for signature in found:
        fact = _pdf_signature(content, signature)
        signatures += fact.signatures
        timestamps += fact.timestamps
        signing_time = signing_time or fact.signing_time
        timestamp_time = timestamp_time or fact.timestamp_time
    kind = DocumentFormat.PADES if found else DocumentFormat.PDF
    return Inspection(kind, signatures, timestamps, signing_time, timestamp_time)


def _signature_dictionaries(reader: PdfReader) -> Iterator[DictionaryObject]:
    root: Any = reader.trailer["/Root"]
    acro_form = root.get_object().get("/AcroForm")
    if acro_form is None:
        return
    pending = list(acro_form.get_object().get("/Fields", []))
    seen = 0
    while pending and seen < 10000:
        seen += 1
        item = pending.pop().get_object()
        pending.extend(item.get("/Kids", []))
        value = item.get("/V")
        if item.get("/FT") == "/Sig" and value is not None:
            yield value.get_object()


def _pdf_signature_of(dictionary: DictionaryObject) -> _PdfSignature:
    raw = dictionary.get("/Contents")
    der = bytes(raw) if isinstance(raw, bytes) else getattr(raw, "original_bytes", b"")
    raw_range: Any = dictionary.get("/ByteRange")
    try:
        byte_range: tuple[int, ...] | None = tuple(int(x) for x in raw_range)
    except (TypeError, ValueError):
        byte_range = None
    return _PdfSignature(str(dictionary.get("/SubFilter", "")), der, byte_range)


def _pdf_signature(content: bytes, signature: _PdfSignature) -> Inspection:
    signed_bytes = _byte_range(content, signature.byte_range)
    if signature.subfilter == TIMESTAMP_SUBFILTER:
        _check_imprint(signature.der, signed_bytes)
        return Inspection(DocumentFormat.PADES, 0, 1, timestamp_time=_timestamp_time(signature.der))
    if signature.subfilter not in CMS_SUBFILTERS:
        raise _refuse("signature_format", f"an unsupported PDF signature /SubFilter {signature.subfilter or '(none)'}")
    with _unreadable("signature_malformed", "the PDF signature is not readable CMS signed data"):
        return _cms_signature(signature.der, signed_bytes)


def _byte_range(content: bytes, byte_range: tuple[int, ...] | None) -> bytes:
    if byte_range is None or len(byte_range) != 4:
        raise _refuse("signature_malformed", "the PDF signature has no valid /ByteRange")
    a, b, c, d = byte_range
    if a != 0 or min(b, c, d) < 0 or b > c or c + d > len(content):
        raise _refuse("signature_malformed", "the PDF signature's /ByteRange lies outside the file")
    return content[a : a + b] + content[c : c + d]


def _digest(algorithm: object, data: bytes, what: str) -> bytes:
    """The digest of `data` with an accepted algorithm, or a refusal naming `what` uses another one."""
    if algorithm not in DIGESTS:
        raise _refuse("digest_algorithm", f"{what} uses a digest algorithm that is not accepted (SHA-256 or stronger)")
    return hashlib.new(str(algorithm), data).digest()


def _check_imprint(der: bytes, signed_bytes: bytes) -> None:
    imprint = _tst_info(der)["message_imprint"]
    digest = _digest(imprint["hash_algorithm"]["algorithm"].native, signed_bytes, "the document time stamp")
    if digest != imprint["hashed_message"].native:
        raise _refuse("digest_mismatch", "the PDF was changed after its document time stamp")


def _cms_signature(der: bytes, signed_bytes: bytes) -> Inspection:
    """The facts of a CMS signature (parsed lazily by asn1crypto: the caller turns a damaged part into a refusal)."""
    info = cms.ContentInfo.load(der)
    signed = info["content"] if info["content_type"].native == "signed_data" else None
    signer_infos = list(signed["signer_infos"]) if signed is not None else []
    if signed is None or not signer_infos:
        raise _refuse("signature_missing", "the PDF signature holds no signer")
    timestamps = 0
    signing_time = timestamp_time = None
    for signer in signer_infos:
        _check_message_digest(signer, signed_bytes)
        _verify_signer(signed, signer)
        signing_time = signing_time or _instant(_attribute(signer["signed_attrs"], "signing_time"))
        token = _attribute(signer["unsigned_attrs"], "signature_time_stamp_token")
        if token is not None:
            timestamps += 1
            timestamp_time = _timestamp_time(token.dump())
    return Inspection(DocumentFormat.PADES, len(signer_infos), timestamps, signing_time, timestamp_time)


def _attribute(attributes: Any, name: str) -> Any:
    if attributes is None or not attributes.native:
        return None
    for attribute in attributes:
        if attribute["type"].native == name:
            values = attribute["values"]
            return values[0] if name == "signature_time_stamp_token" else values[0].native
    return None


def _check_message_digest(signer: Any, signed_bytes: bytes) -> None:
    expected = _attribute(signer["signed_attrs"], "message_digest")
    if expected is None:
        raise _refuse("signature_malformed", "the PDF signature has no message digest (signed attributes)")
    digest = _digest(signer["digest_algorithm"]["algorithm"].native, signed_bytes, "the PDF signature")
    if digest != expected:
        raise _refuse("digest_mismatch", "the PDF was changed after it was signed")


def _verify_signer(signed: Any, signer: Any) -> None:
    """The signature value over the signed attributes, with the signer's certificate from the CMS."""
    certificate = _signer_certificate(signed, signer)
    message = signer["signed_attrs"].untag().dump()
    signature = signer["signature"].native
    digest = _HASHES.get(signer["digest_algorithm"]["algorithm"].native)
    key = certificate.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey) and digest:
            key.verify(signature, message, ec.ECDSA(digest))
        elif isinstance(key, rsa.RSAPublicKey) and digest:
            key.verify(signature, message, _rsa_padding(signer, digest), digest)
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        else:
            raise _refuse("signature_algorithm", "the signature uses an algorithm that is not accepted")
    except InvalidSignature:
        raise _refuse(
            "signature_invalid", "the signature value does not verify with the signer's certificate"
        ) from None


_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}


def _rsa_padding(signer: Any, digest: hashes.HashAlgorithm) -> padding.AsymmetricPadding:
    if signer["signature_algorithm"]["algorithm"].native == "rsassa_pss":
        return padding.PSS(mgf=padding.MGF1(digest), salt_length=padding.PSS.AUTO)
    return padding.PKCS1v15()


def _signer_certificate(signed: Any, signer: Any) -> cx509.Certificate:
    sid = signer["sid"]
    for choice in signed["certificates"] or []:
        certificate = choice.chosen
        if not isinstance(certificate, x509.Certificate):
            continue
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            matches = (
                certificate.issuer == wanted["issuer"] and certificate.serial_number == wanted["serial_number"].native
            )
        else:
            matches = certificate.key_identifier == sid.chosen.native
        if matches:
            with _unreadable("signature_malformed", "the signer's certificate cannot be read"):
                return cx509.load_der_x509_certificate(certificate.dump())
    raise _refuse("signature_malformed", "the PDF signature does not carry its signer's certificate")
