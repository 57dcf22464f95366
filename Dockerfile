# hexexec worker image. Build: docker build -t hexexec .   Run: docker compose up (see docker-compose.yml)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app

# The project and its dependencies, at the exact versions of constraints.txt.
COPY pyproject.toml README.md constraints.txt schema.sql ./
COPY hexexec ./hexexec
COPY ports ./ports
COPY adapters ./adapters
# schema.sql travels in the wheel (<prefix>/share/hexexec); the non-root user owns only its data.
RUN pip install --no-cache-dir -c constraints.txt . \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin hexexec \
 && mkdir -p /app/var \
 && chown hexexec /app/var

USER hexexec

# Data of the embedded servers and the paper venue (used when no REDIS_URL / DATABASE_URL is set).
ENV DATA_DIR=/app/var \
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=9464
VOLUME ["/app/var"]
EXPOSE 9464

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('METRICS_PORT', '9464'), timeout=4)" || exit 1

# hexexec stops gracefully on SIGTERM (docker stop): intake first, then in-flight work.
STOPSIGNAL SIGTERM
CMD ["hexexec", "run"]
