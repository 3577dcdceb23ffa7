"""Delivery of notifications: the outbox and its events, signed webhooks and the worker.

Events are written to the outbox in the transaction that caused them
(:mod:`~service.delivery.outbox`); ``srs worker`` (:mod:`~service.delivery.worker`) delivers
them to subscribed webhooks, signed (:mod:`~service.delivery.webhooks`), retried with
backoff, at least once. It may import ``models`` and nothing from the web edge
(:mod:`service.web`): an import-linter contract holds that.
"""
