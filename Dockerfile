# syntax=docker/dockerfile:1
# Build stage: the watcher wheel and the wheels of everything it needs.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY watcher ./watcher
COPY rules ./rules
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Final stage: install those wheels offline, run as a non-root user.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 WATCHER_CONFIG=/app/watcher.yaml
RUN groupadd --gid 10001 watcher && useradd --create-home --uid 10001 --gid 10001 watcher
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels /wheels/watcher-*.whl \
    && rm -rf /wheels
COPY --chown=watcher:watcher watcher.yaml ./
COPY --chown=watcher:watcher rules ./rules
RUN mkdir -p /app/state && chown watcher:watcher /app/state
USER 10001:10001
# state/ holds the database: keep it on a volume. Mount your own rules over /app/rules.
VOLUME ["/app/state"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["watcher", "health"]
STOPSIGNAL SIGTERM
CMD ["watcher", "run", "--listen", "0.0.0.0:8080"]
