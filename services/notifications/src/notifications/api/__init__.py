"""HTTP routes of the notifications service."""

from notifications.api.notices import router as notices_router

ROUTERS = [notices_router]
