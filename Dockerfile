# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY watcher ./watcher
RUN pip install --no-cache-dir build==1.2.2 && python -m build --wheel --outdir /dist

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 WATCHER_CONFIG=/app/watcher.yaml
RUN useradd --create-home --uid 10001 watcher
WORKDIR /app
COPY --from=build /dist/*.whl /tmp/
RUN pip install --no-cache-dir /tmp/*.whl && rm /tmp/*.whl
COPY --chown=watcher:watcher watcher.yaml ./
COPY --chown=watcher:watcher rules ./rules
RUN mkdir -p /app/state && chown watcher:watcher /app/state
USER watcher
VOLUME ["/app/state"]
STOPSIGNAL SIGTERM
CMD ["watcher", "run"]
