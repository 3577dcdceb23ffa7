"""Data operations on the whole database: import and export of interchange files (row by
row or in bulk), the seed story, backup and restore, and the consistency check.

Driven by the CLI (``srs import``, ``export``, ``seed``, ``rescore``, ``backup``, ``restore``,
``check``) and the benchmarks. It may import the newsroom's use cases
(:mod:`service.newsroom`, whose rules, queries and export it calls rather than copies),
:mod:`service.delivery`, ``models`` and ``scoring``; it imports nothing from the web edge
(:mod:`service.web`) and nothing from ``seeds`` (the seed command reads the seed story and
hands it over).
"""
