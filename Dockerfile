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
RUN pip install . && useradd --create-home srs
USER srs

EXPOSE 8000
# Migrations run on start; gunicorn serves the app factory.
CMD ["sh", "-c", "srs db upgrade && srs seed && srs serve --host 0.0.0.0 --port 8000"]
