"""An education institution's offers to the agency's calls: the three steps, the checks before submission, withdrawal
and resubmission, clarifications, decisions and agreements."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from web.pages.common import institution

router = APIRouter(dependencies=[Depends(institution)])
