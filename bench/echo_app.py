"""The baseline for the gateway benchmark: a bare FastAPI app whose one route returns the JSON body.

Served as `python -m uvicorn bench.echo_app:app --host 127.0.0.1 --port P --no-access-log --log-level warning`,
the same server and flags the stack's processes use.
"""

from __future__ import annotations

from typing import Any

from fastapi import Body, FastAPI

app = FastAPI()


@app.post("/echo")
async def echo(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    return body
