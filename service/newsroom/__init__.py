"""The newsroom's use cases: what the service does, whoever asks (API, dashboard, CLI).

Recording reports and rescoring their claims in the same transaction, editing claims and
outlets, verdicts and retractions (:mod:`~service.newsroom.editorial`), learning model
versions from verdicts and storing them, similar claims, ClaimReview exports, webhook
subscriptions and API keys. It imports ``models``, ``scoring``, ``seeds`` and
:mod:`service.delivery` (to emit events), and nothing from the web edge
(:mod:`service.web`): an import-linter contract holds that. Metrics reach the web edge
through hooks it installs (``service.newsroom.rescoring.rescoring_observers``). One arrow
still points back to a room above: :mod:`~service.newsroom.learning` reads its training
records through :func:`service.operations.importing.export_records`.
"""
