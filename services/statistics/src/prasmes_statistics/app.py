"""Composition root of the statistics service: `uvicorn --factory prasmes_statistics.app:app_factory`."""

from prasmes_runtime.service import ServiceDefinition

DEFINITION = ServiceDefinition(
    name="statistics",
    title="Prasmes statistics",
    description="The platform's statistics, projected from every service's public events.",
)
create_app = DEFINITION.create_app
app_factory = DEFINITION.app_factory
