# salescore: multi-stage, slim, non-root. Runs against SALESCORE_DATABASE_URL (an external
# PostgreSQL); migrations are applied on start-up by `salescore serve`.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --upgrade pip \
    && /opt/venv/bin/pip install .

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SALESCORE_HOST=0.0.0.0 \
    SALESCORE_PORT=8000 \
    SALESCORE_DATA_DIR=/var/lib/salescore
RUN useradd --system --uid 10001 --home-dir /app salescore \
    && mkdir -p /var/lib/salescore \
    && chown salescore /var/lib/salescore
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY migrations ./migrations
USER salescore
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('SALESCORE_PORT', '8000')}/readyz\", timeout=2)"]
CMD ["salescore", "serve"]
