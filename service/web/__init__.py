"""The HTTP edge: everything that knows about Flask and HTTP.

The app factory (:mod:`~service.web.app`), API-key authentication and dashboard sessions,
problem+json errors, CORS, rate and request limits, request ids, logs and metrics, the
database bound to the Flask app (a unit of work per request) and gunicorn serving; the
API's blueprints in :mod:`service.web.api` and the fact-checkers' dashboard in
:mod:`service.web.dashboard`. Views parse a request, call a use case and dump its answer.
It may import every room below it (operations, newsroom, delivery), ``models`` and
``scoring``; nothing but the CLI imports it.
"""
