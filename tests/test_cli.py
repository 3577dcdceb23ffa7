"""The ``srs`` command line, run as a user would: help everywhere, seed, import, export."""

from __future__ import annotations

import json

import click
import pytest

from service.cli import main


def _commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


@pytest.mark.parametrize("path", [(), *_commands(main)], ids=lambda p: " ".join(p) or "srs")
def test_every_command_has_help(cli_runner, path):
    result = cli_runner.invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    command = main
    for name in path:
        command = command.commands[name]
    assert command.help, f"{' '.join(path)} has no help text"


def test_seed_is_idempotent_through_the_cli(cli_runner, database_url):
    args = ["--database-url", database_url]
    first = cli_runner.invoke(main, [*args, "seed"])
    assert first.exit_code == 0, first.output
    assert "24 reports created" in first.output
    second = cli_runner.invoke(main, [*args, "seed"])
    assert "0 reports created; 24 already there" in second.output


def test_import_names_the_bad_line_and_keeps_nothing_of_its_batch(
    cli_runner, database_url, tmp_path
):
    lines = [
        {
            "claim_key": "k1",
            "claim": "A claim",
            "outlet": "Reuters",
            "stance": "supports",
            "report_key": "a",
        },
        {
            "claim_key": "k1",
            "claim": "A claim",
            "outlet": "Kan",
            "stance": "sideways",
            "report_key": "b",
        },
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines))
    result = cli_runner.invoke(main, ["--database-url", database_url, "import", str(path)])
    assert result.exit_code == 2
    assert "line 2, field 'stance'" in result.output
    exported = cli_runner.invoke(main, ["--database-url", database_url, "export"])
    assert exported.exit_code == 0 and exported.stdout.strip() == ""


def test_import_then_export_round_trips(cli_runner, database_url, tmp_path):
    from seeds.loader import STORY_FILE

    args = ["--database-url", database_url]
    result = cli_runner.invoke(main, [*args, "import", str(STORY_FILE), "--batch-size", "5"])
    assert result.exit_code == 0, result.output
    exported = cli_runner.invoke(main, [*args, "export"])
    original = [json.loads(line) for line in STORY_FILE.read_text().splitlines()]
    again = [json.loads(line) for line in exported.stdout.splitlines()]
    assert again == [{k: v for k, v in line.items()} for line in original]


def test_keys_are_shown_once_and_listed_without_the_secret(cli_runner, database_url):
    args = ["--database-url", database_url]
    created = cli_runner.invoke(
        main, [*args, "keys", "create", "--scope", "write", "--name", "cms"]
    )
    assert created.exit_code == 0, created.output
    secret = created.stdout.split(": ")[-1].strip()
    assert secret.startswith("srs_")
    listed = cli_runner.invoke(main, [*args, "keys", "list"])
    assert "cms" in listed.output and secret not in listed.output
    revoked = cli_runner.invoke(main, [*args, "keys", "revoke", "1"])
    assert (
        revoked.exit_code == 0
        and "revoked" in cli_runner.invoke(main, [*args, "keys", "list"]).output
    )
    missing = cli_runner.invoke(main, [*args, "keys", "revoke", "42"])
    assert missing.exit_code == 2 and "no key with id 42" in missing.output
