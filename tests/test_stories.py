"""The optional ``story`` field: interchange format, derivation rules, ``srs evaluate``."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest

from scoring.interchange import (
    MAX_STORY_LENGTH,
    RecordError,
    check_consistency,
    read_records,
    record_from_json,
    write_records,
)
from scoring.stories import claim_stories, derive_stories, parenthesised_story
from scoring.synth import generate
from service.cli import main

LINE = {"claim_key": "k", "claim": "A claim", "outlet": "Reuters", "stance": "supports"}


def test_story_round_trips_through_the_format():
    record = record_from_json({**LINE, "story": "  hamas-leadership-2024 "}, 1)
    assert record.story == "hamas-leadership-2024"
    buffer = io.StringIO()
    write_records([record], buffer)
    assert json.loads(buffer.getvalue())["story"] == "hamas-leadership-2024"
    assert list(read_records(buffer.getvalue().splitlines())) == [record]


def test_data_without_stories_is_written_as_before():
    record = record_from_json(LINE, 1)
    assert record.story is None
    assert "story" not in record.to_json()
    assert record_from_json({**LINE, "story": None}, 1) == record
    assert record_from_json({**LINE, "story": "  "}, 1) == record


@pytest.mark.parametrize(
    ("story", "message"),
    [
        (7, "must be a string"),
        (["a"], "must be a string"),
        ("x" * (MAX_STORY_LENGTH + 1), f"longer than {MAX_STORY_LENGTH} characters"),
    ],
)
def test_bad_stories_are_refused_naming_line_and_field(story, message):
    with pytest.raises(RecordError, match=message) as error:
        record_from_json({**LINE, "story": story}, 3)
    assert (error.value.line, error.value.field) == (3, "story")
    assert record_from_json({**LINE, "story": "x" * MAX_STORY_LENGTH}, 3).story


def test_one_story_per_claim():
    first = record_from_json({**LINE, "story": "a", "report_key": "r1"}, 1)
    check_consistency([first, replace(first, report_key="r2")])
    for other in ("b", None):
        with pytest.raises(RecordError, match="differs from the story of 'k'") as error:
            check_consistency([first, replace(first, report_key="r2", story=other)])
        assert (error.value.line, error.value.field) == (2, "story")


@pytest.mark.parametrize(
    ("claim", "story"),
    [
        ("Rumour thread 552783667052167168 (charliehebdo)", "charliehebdo"),
        ("Rumour thread 498254340310966273 (ferguson) ", "ferguson"),
        ("Rumour thread 1 (Germanwings  Crash)", "germanwings crash"),
        ("Rumour thread 1 (a) (putinmissing)", "putinmissing"),
        ("Rumour thread 1 (ottawashooting) and more", None),
        ("Hamas's leadership moved to Turkey", None),
        ("An empty name ()", None),
    ],
)
def test_parenthesised_rule_takes_the_name_ending_the_claim(claim, story):
    assert parenthesised_story(claim) == story


def test_derived_stories_fill_gaps_only():
    named = record_from_json({**LINE, "claim": "Thread 1 (sydneysiege)", "story": "mine"}, 1)
    derived = record_from_json({**LINE, "claim_key": "k2", "claim": "Thread 2 (sydneysiege)"}, 2)
    plain = record_from_json({**LINE, "claim_key": "k3"}, 3)
    out = derive_stories([named, derived, plain], "parenthesised")
    assert [r.story for r in out] == ["mine", "sydneysiege", None]
    assert claim_stories(out) == {"k": "mine", "k2": "sydneysiege", "k3": None}
    check_consistency(out)
    with pytest.raises(ValueError, match="unknown story rule 'brackets'"):
        derive_stories([plain], "brackets")


@pytest.fixture(scope="module")
def rumour_style_file(tmp_path_factory):
    """Synthetic claims named like RumourEval's threads, 6 events."""
    dataset = generate(150, 300, seed=8, unlabelled_fraction=0.1)
    number = {}
    lines = []
    for record in dataset.records:
        n = number.setdefault(record.claim_key, len(number))
        renamed = replace(record, claim=f"Rumour thread {n} (event{n % 6})")
        lines.append(json.dumps(renamed.to_json()))
    path = tmp_path_factory.mktemp("rumours") / "threads.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_evaluate_holds_out_derived_stories(cli_runner, rumour_style_file, tmp_path):
    out = tmp_path / "eval"
    args = ["evaluate", str(rumour_style_file), "--folds", "3", "--seeds", "2"]
    result = cli_runner.invoke(
        main, [*args, "--group-by", "story", "--derive-story", "parenthesised", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["split"] == "story" and metrics["seeds"] == [0, 1]
    assert {"model", "baselines", "variants", "sd", "best_baseline", "paired_bootstrap"} <= set(
        metrics
    )
    assert set(metrics["paired_bootstrap"]) >= {"auc", "brier", "ece", "baseline"}
    assert metrics["interval"]["checks"] > 0
    assert "split by story, 3 folds × 2 seeds (0, 1)" in result.output
    assert "best baseline (lowest mean Brier)" in result.output
    assert " ± " in result.output
    # Without the rule the file has no stories: each claim is its own story.
    plain = cli_runner.invoke(main, [*args, "--split", "story"])
    assert plain.exit_code == 0, plain.output


def test_evaluate_refuses_contradicting_split_options(cli_runner, rumour_style_file):
    result = cli_runner.invoke(
        main, ["evaluate", str(rumour_style_file), "--split", "outlet", "--group-by", "story"]
    )
    assert result.exit_code == 2 and "disagree" in result.output
    few = cli_runner.invoke(
        main,
        [
            "evaluate",
            str(rumour_style_file),
            "--folds",
            "7",
            "--split",
            "story",
            "--derive-story",
            "parenthesised",
        ],
    )
    assert few.exit_code == 2 and "7 folds need at least 7 stories; there are 6" in few.output
