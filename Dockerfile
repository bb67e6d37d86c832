# syntax=docker/dockerfile:1
# One image for every process of the back-office: the web (gunicorn, static files by
# WhiteNoise), Celery workers and the one Celery beat; docker-compose.yml picks the command.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    PRIVATE_DOCUMENTS_ROOT=/data/private \
    DATABASE_CONN_MAX_AGE=60

# The system libraries PDF rendering needs: the one list, also installed by .ci/run.
COPY system-packages.txt /tmp/system-packages.txt
RUN apt-get update \
    && apt-get install -y --no-install-recommends $(sed -e 's/#.*//' /tmp/system-packages.txt) \
    && rm -rf /var/lib/apt/lists/* /tmp/system-packages.txt

# The Python dependencies first, read from pyproject.toml (cached while only code changes).
WORKDIR /app
COPY pyproject.toml ./
RUN python -m venv "$VIRTUAL_ENV" \
    && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The code runs from /app (templates, static and locale are found beside it).
COPY . .
# Static files collected at build time: compressed, with content-hashed names. The key only
# lets settings load for this command; the running container must be given its own.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v0 \
    && python -m compileall -q /app

# Never run as root. /data/private holds the PDFs (mount a volume, or use an object store).
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /data/private /app/var \
    && chown -R app:app /data/private /app/var
USER app

EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application"]
