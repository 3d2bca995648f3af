"""User Experience: end-to-end tests of the target's command lines through their real entry
points: help, missing and invalid arguments, validation messages, exit codes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autocoder.errors import PerspectiveSkipped
from autocoder.schema import TestSpec
from autocoder.workers.test_planning.perspectives.user_experience import UserExperience
from autocoder.workers.test_planning.verify import collect_generated_tests

from perspectivekit import run_specs

LEDGER = Path(__file__).parent / "fixtures" / "ledger"
Ran = tuple[Path, list[TestSpec], dict]
TOOL = {
    "pyproject.toml": '[project]\nname = "tool"\n\n[project.scripts]\ntool-admin = "tool.admin:run"\n',
    "tool/admin.py": "import sys\n\n\ndef run():\n    if '--help' in sys.argv:\n        print('tool-admin: look after the tool')\n",
    "tool/__init__.py": "",
    "tool/clicli.py": (
        "import click\n\n\n@click.group()\ndef cli():\n    pass\n\n\n@cli.command()\n"
        "@click.option('--count', type=int, required=True)\n"
        "@click.option('--color', type=click.Choice(['red', 'blue']), default='red')\n"
        "@click.argument('name')\ndef greet(count, color, name):\n    click.echo(f'{name} {count} {color}')\n"
    ),
    "tool/typ.py": "import typer\n\napp = typer.Typer()\n\n\n@app.command()\ndef hello(name: str) -> None:\n    print(name)\n",
    "tool/sub.py": (
        "import argparse\nimport sys\n\n\ndef main() -> int:\n    parser = argparse.ArgumentParser(prog='sub')\n"
        "    commands = parser.add_subparsers(dest='command', required=True)\n"
        "    add = commands.add_parser('add')\n    add.add_argument('name')\n"
        "    remove = commands.add_parser('remove')\n    remove.add_argument('--mode', choices=['soft', 'hard'], required=True)\n"
        "    args = parser.parse_args()\n    return {'remove': 0}[args.command]\n\n\n"
        "if __name__ == '__main__':\n    sys.exit(main())\n"
    ),
}


def _run(root: Path, tmp_path: Path, **options: object) -> tuple[list[TestSpec], dict]:
    return run_specs(UserExperience(), root, tmp_path, **options)


def _cases(specs: list[TestSpec]) -> dict[str, tuple[int, str, str]]:
    """argv -> (evidence line, expected, status)."""
    return {s.inputs.removeprefix("argv "): (s.line, s.expected, s.status) for s in specs}


@pytest.fixture(scope="module")
def ledger_ran(tmp_path_factory: pytest.TempPathFactory) -> Ran:
    tmp = tmp_path_factory.mktemp("ran")
    shutil.copytree(LEDGER, tmp / "ledger")
    return tmp / "ledger", *_run(tmp / "ledger", tmp, run_target_tests=True)


def test_ledger_cli_help_errors_validation_and_exit_codes(ledger_ran: Ran) -> None:
    _root, specs, info = ledger_ran
    assert {s.subject for s in specs} == {"ledger.cli:main"} and {s.kind for s in specs} == {
        "end-to-end"
    }
    assert _cases(specs) == {
        "['--help']": (8, "exit code 0, output contains 'usage:'", "passed"),
        "[]": (
            9,
            "exit code 2, output contains 'the following arguments are required: --amount'",
            "passed",
        ),
        "['--amount', 'not-a-number']": (
            9,
            "exit code 2, output contains \"invalid int value: 'not-a-number'\"",
            "passed",
        ),
        "['--amount', '1', '--currency', 'not-a-choice']": (
            10,
            "exit code 2, output contains \"invalid choice: 'not-a-choice'\"",
            "passed",
        ),
        "['--amount', '-1']": (
            16,
            "exit code 2, output contains 'amount must not be negative'",
            "passed",
        ),
        "['--amount', '1']": (8, "exit code 0", "passed"),
    }
    negative = next(s for s in specs if "'-1'" in s.inputs)
    assert (
        "code = main(argv)" in negative.test_code
        and "def test_main_rejects_amount_minus_1(" in negative.test_code
    )
    assert info["scripts"] == {"ledger": "ledger.cli:main"} and info["validations"] == 1


def test_generated_tests_collect(ledger_ran: Ran) -> None:
    root, specs, _info = ledger_ran
    collection = collect_generated_tests(root, specs)
    assert collection.items == len(specs) == 6, collection.output
    assert (collection.blocked, collection.errors) == ({}, {}), collection.output


def test_click_typer_and_sub_commands_and_a_crash_on_valid_arguments_is_kept_as_failed(
    tmp_path: Path,
) -> None:
    root = tmp_path / "t"
    for name, text in TOOL.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    specs, info = _run(root, tmp_path, run_target_tests=True)
    by = {(s.subject, s.inputs.removeprefix("argv ")): (s.expected, s.status) for s in specs}
    assert by[("tool.clicli:greet", "['x']")] == (
        "exit code 2, output contains \"Missing option '--count'\"",
        "passed",
    )
    assert by[("tool.clicli:greet", "['--count', '1']")] == (
        "exit code 2, output contains \"Missing argument 'NAME'\"",
        "passed",
    )
    assert (
        by[("tool.clicli:greet", "['--count', '1', '--color', 'not-a-choice', 'x']")][1] == "passed"
    )
    assert by[("tool.clicli:greet", "['--count', '1', 'x']")] == ("exit code 0", "passed")
    assert by[("tool.typ:hello", "['--help']")] == (
        "exit code 0, output contains 'Usage:'",
        "passed",
    )
    assert by[("tool.sub:main", "['remove']")] == (
        "exit code 2, output contains 'the following arguments are required: --mode'",
        "passed",
    )
    assert by[("tool.sub:main", "['add', '--help']")][1] == "passed"
    assert by[("tool.sub:main", "['remove', '--mode', 'soft']")] == ("exit code 0", "passed")
    assert by[("tool.sub:main", "['add', 'x']")] == (
        "exit code 0",
        "failed",
    )  # KeyError: 'add' crashes
    assert 'monkeypatch.setattr(sys, "argv", ["prog", *argv])' in next(
        s.test_code for s in specs if s.subject == "tool.sub:main"
    )
    assert by[("tool.admin:run", "['--help']")] == (
        "exit code 0",
        "passed",
    )  # a script with no parser
    assert "monkeypatch.setattr(sys, \"argv\", ['tool-admin', *argv])" in next(
        s.test_code for s in specs if s.subject == "tool.admin:run"
    )
    assert info["command_lines"] == 5


def test_spec_ids_are_stable_when_unrelated_lines_move(ledger_dir: Path, tmp_path: Path) -> None:
    before = {s.inputs: s.id for s in _run(ledger_dir, tmp_path)[0]}
    cli = ledger_dir / "ledger" / "cli.py"
    cli.write_text("# moved\n\n" + cli.read_text())
    after = _run(ledger_dir, tmp_path)[0]
    assert {s.inputs: s.id for s in after} == before
    assert next(s for s in after if s.inputs == "argv ['--amount', '-1']").line == 18


def test_target_without_a_command_line_has_nothing_to_say(shop_dir: Path, tmp_path: Path) -> None:
    specs, info = _run(shop_dir, tmp_path)
    assert specs == [] and info["command_lines"] == 0
    assert (
        info["summary"] == "No argparse parser, click command or typer app found: no CLI to test."
    )


def test_target_without_python_files_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "README.md").write_text("nothing here\n")
    with pytest.raises(PerspectiveSkipped, match="no Python files"):
        _run(tmp_path / "t", tmp_path)
