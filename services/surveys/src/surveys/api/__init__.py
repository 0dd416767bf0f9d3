"""HTTP routes of the surveys service."""

from surveys.api.dev import router as dev_router
from surveys.api.learner import router as learner_router
from surveys.api.results import router as results_router

ROUTERS = [learner_router, results_router, dev_router]
