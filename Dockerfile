# The API image: the project installed into a slim Python, served by gunicorn.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY models ./models
COPY scoring ./scoring
COPY seeds ./seeds
COPY scripts/entrypoint /usr/local/bin/srs-entrypoint
RUN pip install . && useradd --create-home srs
USER srs

EXPOSE 8000
# On start: migrations; on a database that never had a key, one admin key printed once in
# the log (or written to SRS_ADMIN_KEY_FILE); the seed story only if SRS_LOAD_SEED=true;
# then the command, by default gunicorn serving the app factory (scripts/entrypoint).
ENTRYPOINT ["srs-entrypoint"]
CMD ["srs", "serve", "--host", "0.0.0.0", "--port", "8000"]
