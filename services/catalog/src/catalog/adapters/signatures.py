"""What an uploaded document is, judged by its content: the shared checks of `prasmes_documents.signatures`
(catalog's and calls' one implementation), under the name catalog's use cases know them by."""

from __future__ import annotations

from prasmes_documents.signatures import (
    ASICE_MIMETYPE,
    FIELD,
    MAX_UNPACKED_BYTES,
    MEDIA_TYPE_OF,
    DocumentFormat,
    Inspection,
    inspect,
)

__all__ = ["ASICE_MIMETYPE", "FIELD", "MAX_UNPACKED_BYTES", "MEDIA_TYPE_OF", "DocumentFormat", "Inspection", "inspect"]
