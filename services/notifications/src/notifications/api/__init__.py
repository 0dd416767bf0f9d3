"""HTTP routes of the notifications service (the fixed paths' router first: see api/mails.py)."""

from notifications.api.mails import router as mails_router
from notifications.api.notices import router as notices_router

ROUTERS = [mails_router, notices_router]
