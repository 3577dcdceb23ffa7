"""No N+1 queries: the SQL statements a read costs do not grow with the rows it returns.

Each endpoint is called on a small and on a four times larger history (more claims, more
reports a claim, citations, verdicts, score history) and the statements the app's engine
executes for the request are counted; the counts must be equal. Recording a report is
held to the same: its cost must not grow with the reports its claim already has.
"""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, select

from models import Claim, Report
from service.newsroom.editorial import record_reports, resolve_claim
from service.newsroom.keys import Caller
from service.web.database import database, unit_of_work

EDITOR = Caller(key_id=None, name="test", scope="admin")
OUTLETS = ["Reuters", "Kan", "TASS", "Middle East Eye", "Al Jazeera", "The Times of Israel"]


def _populate(app, first_claim: int, reports_per_claim: list[int]) -> None:
    """Claims numbered from ``first_claim``, each report recorded on its own (so each adds
    to the score history), every third claim resolved, later reports citing earlier."""
    with unit_of_work(app) as uow:
        for c, n_reports in enumerate(reports_per_claim, start=first_claim):
            for r in range(n_reports):
                body = {
                    "claim_key": f"claim-{c}",
                    "claim": f"Claim number {c} about the world",
                    "outlet": OUTLETS[(c + r) % len(OUTLETS)]
                    if c < 10
                    else f"Outlet {(c + r) % 9}",
                    "stance": ("supports", "denies", "neutral")[r % 3],
                    "attribution": "anonymous_source",
                    "source": f"source {r}",
                    "report_key": f"c{c}-r{r}",
                    "new_outlet": True,
                }
                if r >= 2:
                    body["cites"] = f"c{c}-r{r - 2}"
                record_reports(
                    uow.session, [body], EDITOR, similarity_threshold=2.0, can_resolve=True
                )
            if c % 3 == 0:
                claim_id = uow.session.scalar(select(Claim.id).where(Claim.key == f"claim-{c}"))
                resolve_claim(uow.session, claim_id, c % 2 == 0, "checked", EDITOR)
        uow.commit()


@contextmanager
def _statements(app):
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    engine = database(app).engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _key_cached(client, headers) -> None:
    """A request with the key first, so the counted one finds it in the process's cache
    (the steady state: a key is looked up once per process and cache period)."""
    assert client.get("/api/v1/outlets?page_size=1", headers=headers).status_code == 200


def _ids(app) -> tuple[int, int]:
    """The claim with the most reports, and its latest report."""
    with unit_of_work(app) as uow:
        claim_id = uow.session.scalar(select(Claim.id).order_by(Claim.n_reports.desc()).limit(1))
        report_id = uow.session.scalar(
            select(Report.id).where(Report.claim_id == claim_id).order_by(Report.id.desc())
        )
    return claim_id, report_id


READS = [
    "/api/v1/claims?page_size=100",
    "/api/v1/claims?page_size=100&sort=-change&status=open",
    "/api/v1/outlets?page_size=100",
    "/api/v1/claims/{claim}",
    "/api/v1/claims/{claim}/score",
    "/api/v1/claims/{claim}/reports?page_size=100",
    "/api/v1/claims/{claim}/history?page_size=100",
    "/api/v1/reports/{report}",
    "/api/v1/audit?page_size=100",
    "/api/v1/keys",
]


def _read_costs(app, client, headers) -> dict[str, tuple[int, int]]:
    claim_id, report_id = _ids(app)
    costs = {}
    for template in READS:
        url = template.format(claim=claim_id, report=report_id)
        _key_cached(client, headers)
        with _statements(app) as seen:
            response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.get_json())
        body = response.get_json()
        costs[template] = (len(seen), len(body) if isinstance(body, list) else 1)
    return costs


def test_reads_cost_the_same_statements_whatever_the_rows(app, client, auth):
    headers = auth("admin")
    _populate(app, 0, [3, 3, 3])
    small = _read_costs(app, client, headers)
    _populate(app, 10, [12] * 12)  # four times the claims, reports a claim, outlets
    large = _read_costs(app, client, headers)
    for template in READS:
        (small_count, small_rows), (large_count, large_rows) = small[template], large[template]
        if "page_size" in template:
            assert large_rows > small_rows, template  # the bigger history is really listed
        assert large_count == small_count, f"{template}: {small_count} -> {large_count} statements"


def test_recording_a_report_costs_the_same_statements_however_long_its_claim(app, client, auth):
    _populate(app, 0, [2, 24])
    costs = []
    for claim, reports_before in ((0, 2), (1, 24)):
        body = {
            "claim_key": f"claim-{claim}",
            "claim": f"Claim number {claim} about the world",
            "outlet": "Reuters",
            "stance": "supports",
            "attribution": "named_official",
            "source": "a source of its own",  # a cluster of its own: the score changes
        }
        _key_cached(client, auth("write"))
        with _statements(app) as seen:
            response = client.post("/api/v1/reports", json=body, headers=auth("write"))
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["score"]["n_reports"] == reports_before + 1
        costs.append(len(seen))
    assert costs[0] == costs[1], costs
