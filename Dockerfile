# syntax=docker/dockerfile:1
# One image for every service of the platform: SERVICE_NAME chooses the service (the registry's, services.toml),
# ROLE its role (api or worker; the gateway and the web pages have one). Built from the pinned lock:
#   docker build -t prasmes .
#   docker run -e SERVICE_NAME=catalog -e ROLE=api -p 8000:8000 prasmes
# deploy/compose.yaml runs the whole platform with it; deploy/k8s/ deploys it. Not built in this repository's CI
# (it has no Docker engine): tests/deploy checks this file's stages and user (deploy/README.md, "Images").

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# The web pages' styles and scripts, from services/web/package-lock.json (as `make install` builds them).
FROM node:22-bookworm-slim AS assets
WORKDIR /src/services/web
COPY services/web/package.json services/web/package-lock.json services/web/build.mjs ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY services/web/src/web/styles/ src/web/styles/
RUN npm run --silent build

# The virtualenv: the services' packages and their dependencies at the lock's versions and hashes (the lock
# without its editable lines is the constraints; the test tools it also pins are not installed).
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN python -m pip install uv==0.13.9
WORKDIR /app
COPY requirements.lock ./
COPY libs/contracts/ libs/contracts/
COPY libs/documents/ libs/documents/
COPY libs/runtime/ libs/runtime/
COPY services/ services/
RUN grep -v '^-e ' requirements.lock > /tmp/constraints.txt \
    && grep -E '^-e \./(libs/(contracts|documents|runtime)|services/)' requirements.lock > /tmp/services.txt \
    && uv venv --python /usr/local/bin/python3.11 /app/.venv \
    && uv pip install --python /app/.venv/bin/python -r /tmp/services.txt -c /tmp/constraints.txt \
    && /app/.venv/bin/python -m compileall -q -j 0 libs services >/dev/null
COPY --from=assets /src/services/web/src/web/static/build/ services/web/src/web/static/build/

# What runs: the interpreter, the virtualenv and the sources (the packages are installed editable, from /app).
# No compiler, no pip, no uv, no node; a user without a shell and a read-only root file system where deployed.
FROM ${PYTHON_IMAGE} AS runtime
RUN python -m pip uninstall -y -q pip setuptools wheel \
    && rm -rf /usr/local/bin/pip* /usr/local/lib/python3.11/ensurepip /root/.cache \
    && groupadd --gid 10001 prasmes \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin prasmes \
    && install -d -o 10001 -g 10001 /var/lib/prasmes
WORKDIR /app
COPY --from=build /app/.venv/ /app/.venv/
COPY --from=build /app/libs/ /app/libs/
COPY --from=build /app/services/ /app/services/
COPY deploy/image/serve.py /app/serve.py
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VAR_DIR=/var/lib/prasmes \
    MPLCONFIGDIR=/tmp/matplotlib
USER 10001:10001
EXPOSE 8000 9464
ENTRYPOINT ["/app/.venv/bin/python", "/app/serve.py"]
