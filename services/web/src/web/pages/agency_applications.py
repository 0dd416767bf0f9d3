"""The agency's learner applications (filters, decisions, the fair allocation of a window) and funding projects with
their live ledger."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from web.pages.common import agency

router = APIRouter(dependencies=[Depends(agency)])
