"""The README, docs/ and --help tell the truth: every option documented and every documented option
real, every `smi` command line in them parses, every link resolves inside the repository, examples
in every --help, CI runs the README's test command, and `smi --help` stays light (no boto3)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from markdown_text import anchors, fenced_blocks, link_targets, smi_invocations, table_options

from sagemaker_inventory.cli import SUBCOMMANDS, cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
PAGES = {path: path.read_text() for path in [ROOT / "README.md", *sorted(ROOT.glob("docs/*.md"))]}
README_MAX_LINES = 450


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


def defined_options(name: str) -> set[str]:
    return {
        opt
        for param in command(name).params
        if isinstance(param, click.Option) and not param.hidden
        for opt in [*param.opts, *param.secondary_opts]
    }


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_the_reference_tables_name_every_option_and_only_real_ones(name: str) -> None:
    documented = table_options(README, f"`smi {name}`")
    defined = defined_options(name)
    assert defined - documented == set(), f"smi {name}: options missing from the README's tables"
    assert documented - defined == set(), f"smi {name}: documented but not defined"


def documented_invocations() -> list[tuple[str, list[str]]]:
    return [
        (path.relative_to(ROOT).as_posix(), args)
        for path, text in PAGES.items()
        for block in fenced_blocks(text, "sh", "bash", "")
        for args in smi_invocations(block)
        if args
    ]


def test_the_readme_shows_smi_command_lines() -> None:
    readme = [args for page, args in documented_invocations() if page == "README.md"]
    assert len(readme) >= 10 and {args[0] for args in readme} == set(SUBCOMMANDS)


@pytest.mark.parametrize(("page", "args"), documented_invocations(), ids=lambda v: str(v)[:60])
def test_every_documented_smi_command_line_parses(page: str, args: list[str]) -> None:
    """Option names and their values' count, as click's parser reads them (values unchecked)."""
    name, rest = args[0], args[1:]
    assert name in SUBCOMMANDS, f"{page}: smi {' '.join(args)}"
    parser = command(name).make_parser(click.Context(command(name), info_name=name))
    try:
        _, leftover, _ = parser.parse_args(rest)
    except click.UsageError as exc:
        pytest.fail(f"{page}: smi {' '.join(args)}: {exc}")
    assert name == "report" or not leftover, f"{page}: smi {' '.join(args)}: extra {leftover}"


@pytest.mark.parametrize("page", sorted(PAGES), ids=lambda path: path.name)
def test_every_relative_link_resolves_inside_the_repository(page: Path) -> None:
    for target in link_targets(PAGES[page]):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.is_relative_to(ROOT), f"{page.name}: {target} leaves the repository"
        assert resolved.is_file(), f"{page.name}: {target} does not exist"
        if anchor and resolved.suffix == ".md":
            assert anchor in anchors(resolved.read_text()), f"{page.name}: no #{anchor} in {path}"


@pytest.mark.parametrize("page", sorted(PAGES), ids=lambda path: path.name)
def test_pages_hold_no_history(page: Path) -> None:
    """History lives in git: no commit hashes, no "this round", no path outside the repository."""
    text = PAGES[page]
    assert "../shared" not in text
    assert not re.search(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,40}\b", text)
    assert not re.search(r"\b(this|last|the) (round|stop)\b", text, re.IGNORECASE)


def test_the_readme_is_short() -> None:
    assert README.count("\n") < README_MAX_LINES


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
