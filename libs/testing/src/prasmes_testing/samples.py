"""Synthetic but structurally real signed documents, for tests and the demo data.

Keys and certificates are generated here (self-signed: they pass the structure and integrity checks,
not a qualified validation service). Shapes: an ASiC-E container with a XAdES signature carrying a
SignatureTimeStamp, and a PAdES PDF whose CMS signature carries a signature-time-stamp attribute
(1.2.840.113549.1.9.16.2.14) or which has an RFC 3161 document time stamp.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from asn1crypto import algos, cms, tsp, x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

STATEMENT_TEXT = (
    "Apliecinājums par platformas lietošanu. Izglītības iestāde apliecina, ka izmantos Prasmju pārvaldības "
    "platformu saskaņā ar tās lietošanas noteikumiem."
)
_CONTENTS_SIZE = 16384  # bytes reserved for the CMS in the PDF (hex doubles it)


@dataclass(frozen=True)
class _Signer:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def der(self) -> bytes:
        return bytes(self.certificate.dump())


@cache
def _signer(common_name: str) -> _Signer:
    key = ec.generate_private_key(ec.SECP256R1())
    name = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        cx509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return _Signer(key, x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)))


def _signer_info(
    signer: _Signer, signed_attrs: cms.CMSAttributes, unsigned: cms.CMSAttributes | None
) -> cms.SignerInfo:
    signature = signer.key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
    info = {
        "version": "v1",
        "sid": cms.SignerIdentifier(
            {
                "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                    {"issuer": signer.certificate.issuer, "serial_number": signer.certificate.serial_number}
                )
            }
        ),
        "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
        "signed_attrs": signed_attrs,
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
        "signature": signature,
    }
    if unsigned is not None:
        info["unsigned_attrs"] = unsigned
    return cms.SignerInfo(info)


def _attributes(content_type: str, digest: bytes, at: datetime) -> cms.CMSAttributes:
    return cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": [content_type]}),
            cms.CMSAttribute({"type": "message_digest", "values": [digest]}),
            cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": at})]}),
        ]
    )


def timestamp_token(imprint_of: bytes, at: datetime | None = None) -> cms.ContentInfo:
    """An RFC 3161 time-stamp token over sha256(imprint_of), from a synthetic time-stamping authority."""
    at = at or datetime.now(UTC).replace(microsecond=0)
    tsa = _signer("Prasmes test TSA")
    tst_info = tsp.TSTInfo(
        {
            "version": "v1",
            "policy": "1.3.6.1.4.1.99999.1",
            "message_imprint": tsp.MessageImprint(
                {
                    "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                    "hashed_message": hashlib.sha256(imprint_of).digest(),
                }
            ),
            "serial_number": int.from_bytes(hashlib.sha256(imprint_of).digest()[:8], "big"),
            "gen_time": at,
        }
    )
    attrs = _attributes("tst_info", hashlib.sha256(tst_info.dump()).digest(), at)
    signed = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
            "encap_content_info": {"content_type": "tst_info", "content": tst_info},
            "certificates": [tsa.certificate],
            "signer_infos": [_signer_info(tsa, attrs, None)],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": signed})


def cms_signature(data: bytes, *, timestamped: bool = True) -> bytes:
    """A detached CMS (CAdES) signature over `data`, optionally with a signature-time-stamp attribute."""
    signer = _signer("Līga Ozola (synthetic signer)")
    at = datetime.now(UTC).replace(microsecond=0)
    attrs = _attributes("data", hashlib.sha256(data).digest(), at)
    first = _signer_info(signer, attrs, None)
    unsigned = None
    if timestamped:
        token = timestamp_token(first["signature"].native, at)
        unsigned = cms.CMSAttributes([cms.CMSAttribute({"type": "signature_time_stamp_token", "values": [token]})])
    signed = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
            "encap_content_info": {"content_type": "data"},
            "certificates": [signer.certificate],
            "signer_infos": [_signer_info(signer, attrs, unsigned) if unsigned else first],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump())


# --------------------------------------------------------------------------- PDF


def _pdf(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _page_objects(text: str, annotations: bytes) -> list[bytes]:
    stream = b"BT /F1 11 Tf 50 780 Td (" + text.encode("ascii", "replace")[:80] + b") Tj ET"
    return [
        b"<< /Type /Catalog /Pages 2 0 R"
        + (b" /AcroForm << /Fields [5 0 R] /SigFlags 3 >>" if annotations else b"")
        + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>"
        + annotations
        + b" >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]


def plain_pdf(text: str = "Licencētā programma (mācību plāns)") -> bytes:
    """A well-formed one-page PDF without a signature (e.g. a curriculum)."""
    return _pdf(_page_objects(text, b""))


def pades_pdf(*, timestamp: str = "signature", text: str = "Apliecinajums par platformas lietosanu") -> bytes:
    """A PAdES-signed PDF. `timestamp`: "signature" (a signature-time-stamp attribute in the CMS),
    "document" (a separate /ETSI.RFC3161 document time stamp) or "none"."""
    placeholder = b"0" * (2 * _CONTENTS_SIZE)
    byte_range = b"/ByteRange [0 0000000000 0000000000 0000000000]"
    sig_dict = (
        b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached "
        + byte_range
        + b" /Contents <"
        + placeholder
        + b"> /M (D:20251110090000+02'00') >>"
    )
    widget = b"<< /Type /Annot /Subtype /Widget /FT /Sig /T (Signature1) /Rect [0 0 0 0] /P 3 0 R /V 6 0 R >>"
    document = _pdf([*_page_objects(text, b" /Annots [5 0 R]"), widget, sig_dict])
    document = _fill_signature(document, lambda signed: cms_signature(signed, timestamped=timestamp == "signature"))
    if timestamp == "document":
        document = _append_document_timestamp(document)
    return document


def _fill_signature(document: bytes, sign: Callable[[bytes], bytes]) -> bytes:
    """Write the ByteRange, then `sign(the bytes it covers)` into the last /Contents placeholder."""
    start = document.rindex(b"/Contents <") + len(b"/Contents ")
    end = document.index(b">", start) + 1
    ranges = (0, start, end, len(document) - end)
    range_text = b"/ByteRange [%d %010d %010d %010d]" % ranges
    marker = document.rindex(b"/ByteRange [0 0000000000 0000000000 0000000000]")
    document = document[:marker] + range_text.ljust(47) + document[marker + 47 :]
    signed = document[: ranges[1]] + document[ranges[2] :]
    der = sign(signed)
    hex_der = der.hex().encode().ljust(end - start - 2, b"0")
    return document[: start + 1] + hex_der + document[end - 1 :]


def _append_document_timestamp(document: bytes) -> bytes:
    """An incremental update adding a document time stamp (/SubFilter /ETSI.RFC3161) over the whole file."""
    start_xref = int(document.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    placeholder = b"0" * (2 * _CONTENTS_SIZE)
    ts_dict = (
        b"<< /Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161 "
        b"/ByteRange [0 0000000000 0000000000 0000000000] /Contents <" + placeholder + b"> >>"
    )
    widget = b"<< /Type /Annot /Subtype /Widget /FT /Sig /T (Timestamp1) /Rect [0 0 0 0] /P 3 0 R /V 8 0 R >>"
    catalog = b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R 7 0 R] /SigFlags 3 >> >>"
    update = bytearray(document)
    offsets = {}
    for number, body in ((1, catalog), (7, widget), (8, ts_dict)):
        offsets[number] = len(update)
        update += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(update)
    update += b"xref\n0 2\n0000000000 65535 f \n%010d 00000 n \n7 2\n" % offsets[1]
    update += b"%010d 00000 n \n%010d 00000 n \n" % (offsets[7], offsets[8])
    update += b"trailer\n<< /Size 9 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (start_xref, xref)
    return _fill_signature(bytes(update), lambda signed: bytes(timestamp_token(signed).dump()))


# --------------------------------------------------------------------------- ASiC-E

_XADES = "http://uri.etsi.org/01903/v1.3.2#"
_DS = "http://www.w3.org/2000/09/xmldsig#"


def _xades_signature(files: dict[str, bytes], *, timestamped: bool) -> bytes:
    signer = _signer("Līga Ozola (synthetic signer)")
    references = "".join(
        f'<ds:Reference URI="{name}"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
        f"<ds:DigestValue>{base64.b64encode(hashlib.sha256(data).digest()).decode()}</ds:DigestValue></ds:Reference>"
        for name, data in files.items()
    )
    signed_info = (
        '<ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2006/12/xml-c14n11"/>'
        '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/>'
        f'{references}<ds:Reference Type="http://uri.etsi.org/01903#SignedProperties" URI="#S0-SignedProperties">'
        '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAA</ds:DigestValue>'
        "</ds:Reference></ds:SignedInfo>"
    )
    signature_value = signer.key.sign(signed_info.encode(), ec.ECDSA(hashes.SHA256()))
    value_b64 = base64.b64encode(signature_value).decode()
    unsigned = ""
    if timestamped:
        token = base64.b64encode(timestamp_token(signature_value).dump()).decode()
        unsigned = (
            '<xades:UnsignedProperties><xades:UnsignedSignatureProperties><xades:SignatureTimeStamp Id="S0-T0">'
            f"<xades:EncapsulatedTimeStamp>{token}</xades:EncapsulatedTimeStamp></xades:SignatureTimeStamp>"
            "</xades:UnsignedSignatureProperties></xades:UnsignedProperties>"
        )
    at = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<asic:XAdESSignatures xmlns:asic="http://uri.etsi.org/02918/v1.2.1#" xmlns:ds="{_DS}" xmlns:xades="{_XADES}">'
        f'<ds:Signature Id="S0">{signed_info}<ds:SignatureValue Id="S0-SIG">{value_b64}</ds:SignatureValue>'
        f"<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{base64.b64encode(signer.der).decode()}"
        '</ds:X509Certificate></ds:X509Data></ds:KeyInfo><ds:Object><xades:QualifyingProperties Target="#S0">'
        '<xades:SignedProperties Id="S0-SignedProperties"><xades:SignedSignatureProperties>'
        f"<xades:SigningTime>{at}</xades:SigningTime></xades:SignedSignatureProperties></xades:SignedProperties>"
        f"{unsigned}</xades:QualifyingProperties></ds:Object></ds:Signature></asic:XAdESSignatures>"
    ).encode()


def asice_container(
    *,
    timestamped: bool = True,
    signed: bool = True,
    mimetype_first: bool = True,
    tamper: bool = False,
    document_name: str = "apliecinajums.pdf",
) -> bytes:
    """An ASiC-E container (.edoc/.asice) holding a statement PDF and a XAdES signature."""
    files = {document_name: plain_pdf("Apliecinajums par platformas lietosanu")}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if not mimetype_first:
            archive.writestr(document_name, files[document_name])
        archive.writestr(zipfile.ZipInfo("mimetype"), b"application/vnd.etsi.asic-e+zip", zipfile.ZIP_STORED)
        if mimetype_first:
            content = files[document_name] + (b"% changed\n" if tamper else b"")
            archive.writestr(document_name, content)
        archive.writestr("META-INF/manifest.xml", _manifest(document_name))
        if signed:
            archive.writestr("META-INF/signatures0.xml", _xades_signature(files, timestamped=timestamped))
    return buffer.getvalue()


def _manifest(document_name: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.etsi.asic-e+zip"/>'
        f'<manifest:file-entry manifest:full-path="{document_name}" manifest:media-type="application/pdf"/>'
        "</manifest:manifest>"
    )


# --------------------------------------------------------------------------- form payloads

GOOD_REGISTER_NUMBER = "3360800001"
"""Rīgas Datorikas mācību centrs in the seeded registers: passes every rule."""


def registration_payload(statement_document_id: str, register_number: str = GOOD_REGISTER_NUMBER) -> dict[str, object]:
    names = {
        "3360800001": ("Rīgas Datorikas mācību centrs", "Brīvības iela 100, Rīga, LV-1001"),
        "3360800005": ("Vidzemes Digitālo prasmju centrs", "Raiņa iela 12, Cēsis, LV-4101"),
        "3360800004": ("Latgales tehnoloģiju skola", "Saules iela 1, Daugavpils, LV-5401"),
    }
    name, address = names.get(register_number, ("Nezināma iestāde", "Rīga"))
    return {
        "name": name,
        "register_number": register_number,
        "legal_address": address,
        "admin": {"name": "Līga Ozola", "email": "liga.ozola@example.lv"},
        "statement_document_id": statement_document_id,
    }


def programme_payload(location_ids: list[str], curriculum_document_id: str, **overrides: object) -> dict[str, object]:
    """Licence P-1234 of 3360800001: 160 h, 64 theory / 96 practice, group 'Datorsistēmas, datubāzes un datortīkli'."""
    payload: dict[str, object] = {
        "title": {"lv": "Datu analīze ar Python", "en": "Data analysis with Python"},
        "licence_number": "P-1234",
        "licence_date": "2023-05-10",
        "thematic_area": "Informācijas un komunikācijas tehnoloģijas",
        "programme_group": "Datorsistēmas, datubāzes un datortīkli",
        "programme_type": "professional_development",
        "form": "in_person",
        "digcomp_level": 5,
        "total_hours": 160,
        "theory_hours": 64,
        "practice_hours": 96,
        "digital_share_percent": "80",
        "qualifications": ["programmesanas_tehnikis", "datu_analitikis"],
        "professional_competences": ["Sagatavo un analizē datus ar Python", "Veido SQL vaicājumus"],
        "learning_outcomes": ["Spēj notīrīt un apvienot datu kopas", "Spēj vizualizēt datus pārskatos"],
        "description": "Praktiska programma datu analīzē: Python, pandas, SQL un datu vizualizācija darbam uzņēmumā.",
        "language": "lv",
        "entry_level": 3,
        "prior_knowledge": "Prasme strādāt ar izklājlapām; programmēšanas pieredze nav nepieciešama.",
        "equipment": "Dators ar 8 GB RAM, tīmekļa kamera; darbs notiek mācību klasē, savs dators nav obligāts.",
        "operating_systems": ["windows", "linux"],
        "location_ids": location_ids,
        "curriculum_document_id": curriculum_document_id,
    }
    payload.update(overrides)
    return payload
