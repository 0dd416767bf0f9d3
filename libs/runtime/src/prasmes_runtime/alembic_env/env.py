"""The one Alembic environment of every service (the runtime's `migrations.alembic_config` points here)."""

from alembic import context
from prasmes_runtime.migrations import run_env

run_env(context.config.attributes.get("target_metadata"))
