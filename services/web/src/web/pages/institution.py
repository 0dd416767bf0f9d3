"""An education institution's own pages: its registration, users, implementation locations, programmes (costed live
from the coefficient table) and groups."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from web.pages.common import institution

router = APIRouter(dependencies=[Depends(institution)])
