"""The statistics service's routers."""

from prasmes_statistics.api.anomalies import router as anomalies_router
from prasmes_statistics.api.dashboard import router as dashboard_router
from prasmes_statistics.api.public import router as public_router
from prasmes_statistics.api.rebuilds import router as rebuilds_router

ROUTERS = [public_router, dashboard_router, anomalies_router, rebuilds_router]
