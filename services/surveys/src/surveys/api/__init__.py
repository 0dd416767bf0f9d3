"""HTTP routes of the surveys service."""

from surveys.api.learner import router

ROUTERS = [router]
