"""The layering is held by import-linter's contracts (``[tool.importlinter]`` in
pyproject.toml): this runs them on the tree, then plants a violation of each in a copy
of the packages and sees that contract, and only it, broken."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))
PACKAGES = ("service", "models", "scoring", "seeds")

# contract id -> (module of the copy, the import planted at its end)
VIOLATIONS = {
    "scoring-pure": ("scoring/labels.py", "import flask"),
    "models-alone": ("models/base.py", "from scoring import vocabulary"),
    "newsroom-below-web": ("service/newsroom/similarity.py", "from service.web import errors"),
    "newsroom-below-operations": (
        "service/newsroom/similarity.py",
        "from service.operations.importing import import_file",
    ),
    "seeds-only-by-seed-command": (
        "service/operations/importing.py",
        "from seeds.loader import read_seed_story",
    ),
    "delivery-below-web": (
        "service/delivery/webhooks.py",
        "from service.web.observability import metrics",
    ),
    "operations-below-web": (
        "service/operations/consistency.py",
        "from service.web.database import unit_of_work",
    ),
}


def contract_names(pyproject: Path) -> dict[str, str]:
    import tomllib

    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["importlinter"]
    return {contract["id"]: contract["name"] for contract in config["contracts"]}


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    # PYTHONPATH first: the packages are found in ``cwd``, not in the editable install.
    # Wide columns: one line per contract in the report.
    env = {**os.environ, "PYTHONPATH": str(cwd), "COLUMNS": "250", "NO_COLOR": "1"}
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_contract_has_a_planted_violation():
    assert set(contract_names(ROOT / "pyproject.toml")) == set(VIOLATIONS)


def test_the_tree_keeps_every_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in contract_names(ROOT / "pyproject.toml").values():
        assert f"{name} KEPT" in result.stdout


@pytest.fixture(scope="module")
def pristine_copy(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("layers")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


@pytest.mark.parametrize("contract_id", sorted(VIOLATIONS))
def test_a_planted_violation_breaks_its_contract(pristine_copy, tmp_path, contract_id):
    copy = tmp_path / "tree"
    shutil.copytree(pristine_copy, copy)
    module, planted = VIOLATIONS[contract_id]
    with (copy / module).open("a", encoding="utf-8") as source:
        source.write(f"\n{planted}  # planted by tests/test_architecture.py\n")

    result = lint_imports(copy)

    assert result.returncode != 0, result.stdout
    names = contract_names(copy / "pyproject.toml")
    assert f"{names[contract_id]} BROKEN" in result.stdout
    for other_id, name in names.items():
        if other_id != contract_id:
            assert f"{name} KEPT" in result.stdout
    assert f"Contracts: {len(names) - 1} kept, 1 broken." in result.stdout
