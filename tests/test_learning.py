"""The reliability estimator: recovery of hidden reliabilities, provenance, priors, API."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from scoring.evidence import ModelParameters
from scoring.interchange import InterchangeRecord
from scoring.learning import ReliabilityEstimator, ReportTable, confusion_reliability
from scoring.synth import generate


@pytest.fixture(scope="module")
def echo_story():
    """Five unreliable outlets, each copied by six others; half the verdicts hidden."""
    return generate(4000, 80, seed=21, echo_outlets=5, copies_per_echo=6, unlabelled_fraction=0.5)


def unresolved_accuracy(dataset, estimator) -> float:
    model = estimator.fit(dataset.table)
    hidden = np.isnan(dataset.table.verdicts)
    predicted = model.predict_proba(dataset.table)[:, 1] > 0.5
    return float(np.mean(predicted[hidden] == dataset.truth[hidden]))


def test_learned_reliabilities_rank_like_hidden_ones():
    dataset = generate(20_000, 200, seed=0, unlabelled_fraction=0.5)
    model = ReliabilityEstimator().fit(dataset.table)
    rho = spearmanr(model.outlet_reliability_, dataset.outlet_reliability).statistic
    assert rho >= 0.9


def test_unsupervised_fit_recovers_truth():
    dataset = generate(3000, 60, seed=2, unlabelled_fraction=1.0)
    assert unresolved_accuracy(dataset, ReliabilityEstimator()) > 0.78


def test_echo_chains_do_not_change_accuracy(echo_story):
    with_copies = unresolved_accuracy(echo_story, ReliabilityEstimator())
    without = unresolved_accuracy(echo_story.drop_copies(), ReliabilityEstimator())
    assert echo_story.is_copy.sum() > 1000
    assert abs(with_copies - without) <= 0.02


def test_copiers_and_copied_outlets_are_not_inflated(echo_story):
    model = ReliabilityEstimator().fit(echo_story.table)
    alone = ReliabilityEstimator().fit(echo_story.drop_copies().table)
    copiers = np.isin(model.outlet_names_, list(echo_story.copiers))
    copied = np.isin(model.outlet_names_, echo_story.echo_sources)
    learned, hidden = model.outlet_reliability_, echo_story.outlet_reliability
    # A copier's record is its own reports: the same as if it had never copied anything.
    np.testing.assert_allclose(learned[copiers], alone.outlet_reliability_[copiers], atol=1e-6)
    assert np.mean(learned[copiers] - hidden[copiers]) <= 0.03
    assert np.all(learned[copiers] <= hidden[copiers] + 0.15)  # few reports: prior pull
    assert np.all(learned[copied] <= hidden[copied] + 0.1)


def test_counting_every_echo_would_distort_the_copiers(echo_story):
    naive = ReliabilityEstimator(respect_provenance=False).fit(echo_story.table)
    careful = ReliabilityEstimator().fit(echo_story.table)
    copiers = np.isin(careful.outlet_names_, list(echo_story.copiers))
    hidden = echo_story.outlet_reliability[copiers]
    naive_error = np.abs(naive.outlet_reliability_[copiers] - hidden).mean()
    careful_error = np.abs(careful.outlet_reliability_[copiers] - hidden).mean()
    assert careful_error < 0.05 < naive_error


def with_newcomer(dataset, stances: dict[str, str]) -> list[InterchangeRecord]:
    """The dataset's records plus one own report by a new outlet on each given claim."""
    records = list(dataset.records)
    first = {}
    for record in records:
        first.setdefault(record.claim_key, record)
    for number, (claim_key, stance) in enumerate(stances.items()):
        records.append(
            dataclasses.replace(
                first[claim_key],
                report_key=f"new-{number}",
                outlet="newcomer",
                stance=stance,
                attribution="unattributed",
                source=None,
                cites=None,
                interested_party=False,
            )
        )
    return records


def test_outlet_with_three_reports_stays_near_its_prior():
    dataset = generate(1000, 30, seed=5)
    # Three reports, all wrong for the claims they are on.
    truth = dict(zip(dataset.table.claim_keys, dataset.truth, strict=True))
    stances = {key: "denies" if truth[key] else "supports" for key in list(truth)[:3]}
    records = with_newcomer(dataset, stances)
    model = ReliabilityEstimator(outlet_priors={"newcomer": 0.8}).fit(records)
    learned = model.outlet_reliability_[model.outlet_index_["newcomer"]]
    assert 0.65 <= learned < 0.8


def test_unseen_outlet_takes_its_kinds_prior():
    dataset = generate(1000, 30, seed=6)
    model = ReliabilityEstimator().fit(dataset.table)
    claim = [InterchangeRecord("c", "a claim", "brand-new", "supports", report_key="r")]
    by_kind = {
        kind: ReportTable.from_records(claim, {"brand-new": kind})
        for kind in ("wire_agency", "social_account")
    }
    wire, social = (model.predict_proba(t)[0, 1] for t in by_kind.values())
    assert wire > social
    # The same as an outlet whose given prior is exactly its kind's reliability.
    given = clone(model).set_params(
        outlet_priors={"brand-new": model.kind_reliability_["wire_agency"]}
    )
    given.fit(dataset.table)
    assert given.predict_proba(by_kind["wire_agency"])[0, 1] == pytest.approx(wire)


def test_verdicts_are_clamped_and_drive_the_reliabilities():
    dataset = generate(1500, 30, seed=8)
    honest = ReliabilityEstimator().fit(dataset.table)
    flipped = ReliabilityEstimator().fit(dataset.table, y=~dataset.truth)
    assert honest.outlet_reliability_.mean() > 0.6
    assert flipped.outlet_reliability_.mean() < 0.4


def test_predictions_ignore_the_verdicts_of_the_claims_scored():
    dataset = generate(800, 30, seed=9)
    model = ReliabilityEstimator().fit(dataset.table)
    unresolved = dataclasses.replace(dataset.table, verdicts=np.full(800, np.nan))
    np.testing.assert_allclose(model.predict_proba(dataset.table), model.predict_proba(unresolved))


def test_estimator_api_conventions():
    dataset = generate(500, 20, seed=10)
    model = ReliabilityEstimator(prior_strength=5.0)
    with pytest.raises(NotFittedError):
        model.predict_proba(dataset.table)
    assert model.get_params()["prior_strength"] == 5.0
    assert model.set_params(prior_strength=7.0) is model and model.prior_strength == 7.0
    copy = clone(model)
    assert copy.get_params() == model.get_params() and not hasattr(copy, "classes_")
    assert model.fit(dataset.table) is model
    proba = model.predict_proba(dataset.table)
    assert proba.shape == (500, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(model.classes_) == [False, True]
    assert np.array_equal(model.predict(dataset.table), model.classes_[proba.argmax(axis=1)])
    assert model.n_iter_ >= 1 and 0 < model.base_rate_ < 1
    assert model.confusion_.shape == (20, 2, 3)
    np.testing.assert_allclose(model.confusion_.sum(axis=2), 1.0)
    assert set(model.attribution_shift_) >= {"named_official", "unattributed"}
    assert model.prior_strength_ > 0 and model.kind_prior_strength_ > 0


def _partition(cluster) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for row, root in enumerate(cluster.tolist()):
        groups.setdefault(root, set()).add(row)
    return {frozenset(group) for group in groups.values()}


def test_records_and_table_agree():
    dataset = generate(300, 40, seed=5, echo_outlets=2, copies_per_echo=3)
    table = ReportTable.from_records(dataset.records, dataset.outlet_kinds)
    names = table.outlet_names[table.outlet]
    assert np.array_equal(names, dataset.table.outlet_names[dataset.table.outlet])
    for field in ("claim", "stance", "attribution", "interested", "echo"):
        assert np.array_equal(getattr(table, field), getattr(dataset.table, field))
    assert _partition(table.cluster) == _partition(dataset.table.cluster)
    assert table.echo[dataset.is_copy].all() and not table.echo[~dataset.is_copy].any()


def test_provenance_clusters_follow_cites_and_shared_sources():
    def report(key, outlet, stance="supports", **fields):
        return InterchangeRecord("c1", "claim", outlet, stance, report_key=key, **fields)

    records = [
        report("a", "Kan"),
        report("b", "Aggregator", cites="a"),
        report("c", "Repeater", cites="b"),  # transitively an echo of a
        report("d", "Reuters", source="a Turkish diplomatic source"),
        report("e", "MEE", source="The Turkish Diplomatic Source."),
        report("f", "AP"),
        report("g", "Kan", "neutral"),
        report("h", "Reuters", cites="g"),  # a support citing neutral coverage: not an echo
    ]
    table = ReportTable.from_records(records)
    assert table.cluster[0] == table.cluster[1] == table.cluster[2]
    assert table.cluster[3] == table.cluster[4] != table.cluster[0]
    assert table.cluster[6] == table.cluster[7]
    assert table.echo.tolist() == [False, True, True, False, False, False, False, False]


def test_model_parameters_make_the_engine_agree_with_the_model():
    from scoring.engine import score_claim
    from scoring.evidence import ReportEvidence

    dataset = generate(2000, 40, seed=12)
    model = ReliabilityEstimator().fit(dataset.table)
    params = model.to_model_parameters("learned-test")
    assert isinstance(params, ModelParameters) and params.version == "learned-test"
    assert set(params.outlet_reliability) <= set(dataset.table.outlet_names)
    assert all(0 < v < 1 for v in params.attribution_credibility.values())
    held_out = generate(300, 40, seed=13)
    reports: dict[str, list[ReportEvidence]] = {}
    for r in held_out.records:
        reports.setdefault(r.claim_key, []).append(
            ReportEvidence(
                r.report_key,
                r.outlet,
                r.stance,
                r.attribution,
                r.source,
                r.interested_party,
                r.cites,
            )  # fmt: skip
        )
    engine = np.array([score_claim(rs, params).confidence for rs in reports.values()])
    model_p = model.predict_proba(held_out.table)[:, 1]
    assert np.corrcoef(engine, model_p)[0, 1] > 0.9


def test_confusion_reliability_is_below_half_for_an_outlet_reliably_wrong():
    wrong = np.array([[0.7, 0.1, 0.2], [0.1, 0.7, 0.2]])  # supports false claims
    assert confusion_reliability(wrong) < 0.5
