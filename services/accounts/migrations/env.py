from accounts.db import metadata
from prasmes_runtime.migrations import run_env

run_env(metadata)
