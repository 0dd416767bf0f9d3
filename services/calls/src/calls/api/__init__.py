"""The calls service's routes, one router per aggregate; no prefix (the gateway adds `/api/calls`)."""

from calls.api.calls import router as calls_router
from calls.api.dev import router as dev_router
from calls.api.evaluations import router as evaluations_router
from calls.api.offers import router as offers_router

ROUTERS = [calls_router, offers_router, evaluations_router, dev_router]
