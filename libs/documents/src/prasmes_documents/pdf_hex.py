"""A faster reading of a PDF's hexadecimal strings for pypdf.

pypdf reads a `<...>` string a character at a time in Python. A signed PDF's signature dictionary holds its CMS
container as such a string, reserved at 16 000 to 64 000 hex digits, and pypdf parses the whole dictionary to reach
its `/ByteRange`: that loop was a fifth of the calls service's CPU under the deadline benchmark's uploads. This reads
the string a block at a time and decodes it in one call, with pypdf's own rules (whitespace ignored, an odd last
digit followed by 0, any other character or a missing `>` refused), and is installed in place of pypdf's with
`install()`. The equivalence is tested against pypdf's own function (`libs/documents/tests/test_pdf_hex.py`)."""

from __future__ import annotations

from typing import Any

from pypdf.errors import STREAM_TRUNCATED_PREMATURELY, PdfStreamError
from pypdf.generic import ByteStringObject, TextStringObject, _data_structures, create_string_object

_WHITESPACE = b"\x00\t\n\x0c\r "
_HEX_DIGITS = b"0123456789abcdefABCDEF"
_BLOCK = 8192


def read_hex_string(stream: Any, forced_encoding: Any = None) -> TextStringObject | ByteStringObject:
    """What `pypdf.generic.read_hex_string_from_stream` returns, and the stream left just after the closing `>`."""
    stream.read(1)  # the opening "<"
    start = stream.tell()
    blocks: list[bytes] = []
    while True:
        block = stream.read(_BLOCK)
        if not block:
            raise PdfStreamError(STREAM_TRUNCATED_PREMATURELY)
        end = block.find(b">")
        if end >= 0:
            blocks.append(block[:end])
            break
        blocks.append(block)
    raw = b"".join(blocks)
    stream.seek(start + len(raw) + 1)
    digits = raw.translate(None, _WHITESPACE)
    wrong = digits.translate(None, _HEX_DIGITS)
    if wrong:
        raise PdfStreamError(f"Invalid hexadecimal character {wrong[:1]!r} in hex string")
    if len(digits) % 2:
        digits += b"0"
    return create_string_object(bytes.fromhex(digits.decode("ascii")), forced_encoding)


def install() -> None:
    """Used by pypdf's object reader from now on (the one place pypdf calls it)."""
    _data_structures.read_hex_string_from_stream = read_hex_string  # type: ignore[attr-defined]
