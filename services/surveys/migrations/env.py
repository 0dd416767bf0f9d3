from prasmes_runtime.migrations import run_env
from surveys.db import metadata

run_env(metadata)
