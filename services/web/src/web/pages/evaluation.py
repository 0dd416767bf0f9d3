"""The agency's calls and their timelines, the evaluation of offers per criterion with clarifications, the four-eyes
decisions and the agreements."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from web.pages.common import agency

router = APIRouter(dependencies=[Depends(agency)])
