"""The image's entry point: the service SERVICE_NAME names (the registry's, services.toml), in the role ROLE names
(api, worker, all; the gateway and the web pages have one), under uvicorn as the launcher starts it
(prasmes_devtools.devstack) but listening on every address, one process per container (the orchestrator scales the
containers; METRICS_PORT wants one process per port). Arguments are handed to uvicorn (`--port 8007`)."""

from __future__ import annotations

import os
import sys

from prasmes_runtime import registry

UVICORN = (
    "--host", "0.0.0.0", "--port", "8000",
    "--loop", "uvloop", "--http", "httptools",  # the compiled ones, or the start fails
    "--no-access-log", "--log-level", "warning",
    "--timeout-keep-alive", "75",  # longer than the gateway's pooled connections live
    "--no-proxy-headers",  # the gateway alone decides whose X-Forwarded-For it believes (TRUSTED_PROXIES)
)  # fmt: skip


def main() -> None:
    name = os.environ.get("SERVICE_NAME", "")
    try:
        entry = registry.entry(name)
    except KeyError:
        names = ", ".join(s.name for s in registry.SERVICES)
        sys.exit(f"SERVICE_NAME={name!r} names no service; one of: {names}")
    command = [sys.executable, "-m", "uvicorn", "--factory", entry.factory, *UVICORN, *sys.argv[1:]]
    os.execv(sys.executable, command)


if __name__ == "__main__":
    main()
