"""The source-reliability scoring service, in rooms (see the README's Layout section).

:mod:`service.web` is the HTTP edge (app factory, API, dashboard), :mod:`service.newsroom`
the use cases, :mod:`service.delivery` the outbox, webhooks and their worker,
:mod:`service.operations` whole-database operations (import, export, backup, checks) and
:mod:`service.cli` the ``srs`` command line; :mod:`service.config` holds the settings read
from the environment. Nothing below the web edge imports it (import-linter's contracts in
pyproject.toml hold that).
"""
