"""The agency's oversight: provider registrations waiting, the quality flags from surveys, the statistics dashboard
and its rebuild, the exports."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from web.pages.common import agency

router = APIRouter(dependencies=[Depends(agency)])
