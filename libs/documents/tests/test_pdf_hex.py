"""The block-wise hex string reader gives what pypdf's own gives, leaves the stream where pypdf's leaves it, and
refuses what pypdf's refuses; once `prasmes_documents.signatures` is imported, pypdf's object reader uses it."""

import io
import secrets
from unittest import mock

import pytest
from prasmes_documents import pdf_hex, signatures
from pypdf.errors import PdfStreamError
from pypdf.generic import _data_structures, _utils

SIGNATURE_SIZED = b"<" + secrets.token_hex(16_384).encode() + b"0" * 30_000 + b">"


@pytest.mark.parametrize(
    "data",
    [
        b"<>",
        b"<48656c6c6f>",
        b"<48 65\n6c\r6c\t6f\x00\x0c>",
        b"<4865 6C6C 6F>",
        b"<486>",  # an odd last digit is followed by 0
        b"<FEFF00480069>",  # UTF-16 with its byte order mark: a text string
        b"<48656c6c6f> /Next 1",
        SIGNATURE_SIZED,
        SIGNATURE_SIZED + b"\n/ByteRange [0 1 2 3]",
    ],
)
def test_the_same_value_and_the_same_position_as_pypdf(data: bytes) -> None:
    ours, theirs = io.BytesIO(data), io.BytesIO(data)
    mine = pdf_hex.read_hex_string(ours)
    expected = _utils.read_hex_string_from_stream(theirs)
    assert type(mine) is type(expected) and mine == expected
    assert bytes(mine.original_bytes) == bytes(expected.original_bytes)
    assert ours.tell() == theirs.tell() and ours.read() == theirs.read()


@pytest.mark.parametrize("data", [b"<48656c6c6f", b"<4865zz>", b"<48-65>", b"<" + b"a" * 20_000])
def test_what_pypdf_refuses_is_refused(data: bytes) -> None:
    with pytest.raises(PdfStreamError):
        _utils.read_hex_string_from_stream(io.BytesIO(data))
    with pytest.raises(PdfStreamError):
        pdf_hex.read_hex_string(io.BytesIO(data))


def test_pypdf_reads_objects_with_it_once_signatures_is_imported() -> None:
    assert signatures.FIELD  # imported: installed
    assert _data_structures.read_hex_string_from_stream is pdf_hex.read_hex_string


def test_pypdf_still_reads_hex_strings_through_the_name_replaced() -> None:
    """A pypdf that read them elsewhere would silently keep its slow loop: its object reader must call this name."""
    spy = mock.Mock(wraps=pdf_hex.read_hex_string)
    with mock.patch.object(_data_structures, "read_hex_string_from_stream", spy):
        read = _data_structures.read_object(io.BytesIO(b"<< /Contents <4142> >>"), None)
    assert spy.call_count == 1
    assert bytes(read["/Contents"].original_bytes) == b"AB"
