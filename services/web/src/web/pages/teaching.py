"""An education institution's teaching: the enrolments per group, the study record (start, discontinuation,
completion) and the survey results with their charts."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from web.pages.common import institution

router = APIRouter(dependencies=[Depends(institution)])
