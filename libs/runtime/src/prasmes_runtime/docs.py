"""The interactive API docs, Swagger UI at /docs and ReDoc at /redoc, with every script, style sheet and icon
served by the platform itself from /docs/assets/: the pages work without internet and load nothing from a CDN.

The assets are the ones the `fastapi-offline` package ships (Swagger UI 5 and ReDoc 2 bundles; installed from
PyPI with the runtime, nothing committed here). Only its files are used: the routes are the runtime's, so that
every service and the gateway serve the same pages at the same paths, all under the internal /docs prefix that
the gateway never forwards (`prasmes_runtime.http.INTERNAL_PATHS`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
ASSETS_URL = "/docs/assets"
SWAGGER_JS = "swagger-ui-bundle.js"
SWAGGER_CSS = "swagger-ui.css"
REDOC_JS = "redoc.standalone.js"
FAVICON = "favicon.png"


def assets_dir() -> Path:
    """Where the installed `fastapi-offline` keeps its copies of the Swagger UI and ReDoc bundles."""
    folder = Path(str(resources.files("fastapi_offline") / "static"))
    missing = [name for name in (SWAGGER_JS, SWAGGER_CSS, REDOC_JS, FAVICON) if not (folder / name).is_file()]
    if missing:
        raise RuntimeError(f"the docs assets {missing} are not in {folder}: is fastapi-offline installed whole?")
    return folder


def install_docs(app: FastAPI, *, title: str, openapi_url: str = "/openapi.json", redoc: bool = True) -> None:
    """Swagger UI (and ReDoc) for the document at `openapi_url`, their assets served by this app."""
    app.mount(ASSETS_URL, StaticFiles(directory=assets_dir()), name="docs-assets")
    parameters = {**(app.swagger_ui_parameters or {}), "validatorUrl": None}  # no badge from validator.swagger.io

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=title,
            swagger_js_url=f"{root}{ASSETS_URL}/{SWAGGER_JS}",
            swagger_css_url=f"{root}{ASSETS_URL}/{SWAGGER_CSS}",
            swagger_favicon_url=f"{root}{ASSETS_URL}/{FAVICON}",
            swagger_ui_parameters=parameters,
        )

    if not redoc:
        return

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc_ui(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=title,
            redoc_js_url=f"{root}{ASSETS_URL}/{REDOC_JS}",
            redoc_favicon_url=f"{root}{ASSETS_URL}/{FAVICON}",
            with_google_fonts=False,
        )
