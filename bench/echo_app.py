"""The baseline: a bare FastAPI app, no middleware, no database.

`POST /echo` returns the JSON body it was sent (parsed and serialised again, as a service does with its input);
`GET /echo` returns a small constant JSON document (a read with no work behind it). Served by uvicorn with the
flags the stack's processes use (`bench.procs.echo_server`; `bench.hotpath` reads them from a running stack
process's command line).
"""

from __future__ import annotations

from typing import Any

from fastapi import Body, FastAPI

app = FastAPI()

_READ = {"items": [{"code": "ECHO", "name": "Echo", "available": "1000.00"}], "total": 1}


@app.post("/echo")
async def echo(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    return body


@app.get("/echo")
async def read() -> dict[str, Any]:
    return _READ
