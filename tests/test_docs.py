"""The README and --help tell the truth: every option documented, examples everywhere, CI runs the
README's test command, and `smi --help` stays light (no boto3)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sagemaker_inventory.cli import SUBCOMMANDS, cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def command(name: str) -> click.Command:
    found = cli.get_command(click.Context(cli), name)
    assert found is not None
    return found


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_command_has_help_with_examples(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_option_has_help(name: str) -> None:
    for param in command(name).params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"smi {name} {param.opts[0]} has no help text"


def test_every_collect_option_is_in_the_readme() -> None:
    for param in command("collect").params:
        if isinstance(param, click.Option) and not param.hidden:
            assert any(f"`{opt}" in README or f"{opt} " in README for opt in param.opts), param.opts


def test_ci_runs_the_readme_test_command() -> None:
    """The README's second set-up command is, line for line, what .ci/run runs."""
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    match = re.search(
        r"^(python3 -m pip install [^\n&]+) && (python3 -m pytest[^\n]*)$", README, re.M
    )
    assert match, "README lacks the test set-up command"
    assert match.group(1) in ci and match.group(2) in ci


def test_readme_demo_command_is_real() -> None:
    assert "\npython3 -m pip install -e '.[demo]' && smi collect --demo\n" in README


@pytest.mark.parametrize("args", [["--help"], ["collect", "--help"]])
def test_help_loads_neither_boto3_nor_botocore(args: list[str]) -> None:
    """The group loads a command only when it runs, and the collect command defers the run's
    modules until it starts: --help (and completion) parse the options only."""
    code = (
        "import sys\n"
        "from sagemaker_inventory.cli import cli\n"
        f"try:\n    cli.main({args!r}, prog_name='smi')\nexcept SystemExit:\n    pass\n"
        "print('boto3' in sys.modules, 'botocore' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False False"


def test_every_exit_code_is_in_help_and_readme() -> None:
    from sagemaker_inventory.exit_codes import ExitCode

    result = CliRunner().invoke(cli, ["--help"])
    for code in ExitCode:
        assert re.search(rf"^\s+(\d+, )*{code.value}\b", result.output, re.MULTILINE), code
        assert re.search(rf"^\| (\d+ / )*{code.value}\b", README, re.MULTILINE), code
