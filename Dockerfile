# syntax=docker/dockerfile:1
# dxpulse application image: one image, several roles chosen by the command
# (`migrate`, `worker`, `simulate`, ...). See docker-compose.yml.
#
#   docker build -t dxpulse:local .
#   docker run --rm dxpulse:local version

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# Exact versions we test (constraints.txt) applied to the ranges in pyproject.toml.
# The source is only needed to build the wheel; it is removed afterwards, the
# installed package lives in site-packages.
WORKDIR /src
COPY constraints.txt ./
COPY . .
RUN pip install --no-cache-dir -c constraints.txt . \
    && rm -rf /src

# Unprivileged runtime user; /app holds local state (DXPULSE_HOME defaults to ./.dxpulse).
RUN groupadd --system --gid 10001 dxpulse \
    && useradd --system --uid 10001 --gid dxpulse --home-dir /app --create-home \
        --shell /usr/sbin/nologin dxpulse

WORKDIR /app
USER dxpulse:dxpulse
ENV HOME=/app

ENTRYPOINT ["dxpulse"]
CMD ["--help"]
