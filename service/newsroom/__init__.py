"""The newsroom's use cases: what the service does, whoever asks (API, dashboard, CLI).

Recording reports and rescoring their claims in the same transaction, editing claims and
outlets, verdicts and retractions (:mod:`~service.newsroom.editorial`), learning model
versions from verdicts and storing them, similar claims, ClaimReview exports, webhook
subscriptions and API keys. Each rule has one home here: the recorder's checks
(:mod:`~service.newsroom.recording`, called by the bulk import too), how a score is stored
(:mod:`~service.newsroom.rescoring`), the stored-report query and its records
(:mod:`~service.newsroom.stored_reports`), the claim queries the API and the dashboard
share (:mod:`~service.newsroom.claims`), a new outlet and its slug
(:mod:`~service.newsroom.outlets`). Use cases raise the newsroom's own errors
(:mod:`~service.newsroom.errors`); the web edge turns them into problem+json.

It imports ``models``, ``scoring`` and :mod:`service.delivery` (to emit events), and
nothing from the web edge (:mod:`service.web`), data operations (:mod:`service.operations`)
or ``seeds``: import-linter contracts hold that. Metrics reach the web edge through hooks
it installs (``service.newsroom.rescoring.rescoring_observers``).
"""
