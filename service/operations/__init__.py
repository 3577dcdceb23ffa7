"""Data operations on the whole database: import and export of interchange files (row by
row or in bulk), the seed story, backup and restore, and the consistency check.

Driven by the CLI (``srs import``, ``export``, ``seed``, ``rescore``, ``backup``, ``restore``,
``check``) and the benchmarks. It may import the newsroom's use cases
(:mod:`service.newsroom`), :mod:`service.delivery`, ``models``, ``scoring`` and ``seeds``;
it imports nothing from the web edge (:mod:`service.web`).
"""
