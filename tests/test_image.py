"""The container image (issue 22): the Dockerfile read statically (pinned slim base, multi-stage, a
fixed non-root user, `smi` as the entrypoint, nothing pip caches, a read-only root file system's
needs), the .dockerignore, the environment the image sets tried on this machine (a demo run writes
nowhere but /tmp), and scripts/smoke_image.sh run for real where a Docker engine answers."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
SMOKE = ROOT / "scripts" / "smoke_image.sh"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        logical.append(pending.strip())
        pending = ""
    return [(head.upper(), rest.strip()) for head, _, rest in (s.partition(" ") for s in logical)]


STEPS = instructions(DOCKERFILE)


def arguments(name: str) -> list[str]:
    return [rest for head, rest in STEPS if head == name]


def final_stage() -> list[tuple[str, str]]:
    starts = [i for i, (head, _) in enumerate(STEPS) if head == "FROM"]
    return STEPS[starts[-1] :]


def build_args() -> dict[str, str]:
    pairs = (rest.partition("=") for rest in arguments("ARG"))
    return {name: value.strip('"') for name, eq, value in pairs if eq}


def test_the_base_image_is_a_slim_python_pinned_by_tag() -> None:
    bases = [build_args().get(b[2:-1], b) if b.startswith("${") else b for b in _bases()]
    assert bases, "no FROM"
    for base in bases:
        image, _, tag = base.partition("@")[0].partition(":")
        assert image in {"python", "docker.io/library/python"}, base
        assert re.fullmatch(r"3\.\d+\.\d+-slim(-\w+)?", tag), f"{base}: not pinned to a patch tag"


def _bases() -> list[str]:
    return [rest.split()[0] for rest in arguments("FROM") if rest.split()[0] != "build"]


def test_the_image_is_built_in_two_stages_and_the_last_copies_only_the_environment() -> None:
    assert len(arguments("FROM")) == 2 and arguments("FROM")[0].endswith(" AS build")
    final = final_stage()
    copies = [rest for head, rest in final if head == "COPY"]
    assert copies == ["--from=build /opt/smi /opt/smi"], "the final stage copies only the venv"
    runs = " ".join(rest for head, rest in final if head == "RUN")
    assert "pip install" not in runs and "pip uninstall --yes --no-cache-dir pip" in runs


def test_pip_never_keeps_a_cache() -> None:
    for head, rest in STEPS:
        if head == "RUN":
            for call in re.findall(r"pip (?:install|wheel)[^&;]*", rest):
                assert "--no-cache-dir" in call, call


def test_the_image_runs_as_a_fixed_numeric_non_root_user() -> None:
    users = [rest for head, rest in final_stage() if head == "USER"]
    assert len(users) == 1
    uid, _, gid = users[0].partition(":")
    assert uid.isdigit() and gid.isdigit() and int(uid) > 0 and int(gid) > 0, users[0]
    assert f"--uid {uid}" in DOCKERFILE and f"--gid {gid}" in DOCKERFILE, "the user is created"
    # Kubernetes' runAsUser in the manifests names the same UID.
    for manifest in (ROOT / "deploy" / "kubernetes").glob("*cronjob.yaml"):
        assert f"runAsUser: {uid}" in manifest.read_text(), manifest.name


def test_smi_is_the_entrypoint_and_help_the_default_command() -> None:
    assert [json.loads(e) for e in arguments("ENTRYPOINT")] == [["smi"]]
    assert [json.loads(c) for c in arguments("CMD")] == [["--help"]]


def image_environment() -> dict[str, str]:
    found: dict[str, str] = {}
    for rest in (r for head, r in final_stage() if head == "ENV"):
        for name, value in re.findall(r"(\w+)=(\S+)", rest):
            found[name] = value
    return found


def test_nothing_in_the_image_writes_outside_tmp() -> None:
    env = image_environment()
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["TMPDIR"] == "/tmp"
    for name in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        assert env[name].startswith("/tmp/"), name
    # Fargate gives a bind mount the image's mode only at a declared VOLUME.
    assert [json.loads(v) for v in arguments("VOLUME")] == [["/tmp"]]


def dockerignore_rules() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(path: str) -> bool:
    """Docker's reading: the last rule that matches a path (or a parent of it) decides."""
    verdict = False
    parts = path.split("/")
    for rule in dockerignore_rules():
        negated = rule.startswith("!")
        pattern = rule.lstrip("!").rstrip("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch(p, pattern) or fnmatch(p, pattern.replace("**/", "")) for p in prefixes):
            verdict = not negated
    return verdict


@pytest.mark.parametrize(
    "path",
    [
        ".git/config",
        "tests/test_image.py",
        "tests/data/x.json",
        ".pytest_cache/v",
        ".mypy_cache/3.11/x",
        ".ruff_cache/x",
        ".hypothesis/examples/x",
        "sagemaker_inventory/__pycache__/cli.cpython-311.pyc",
        "build/lib/x.py",
        "sagemaker_inventory.egg-info/PKG-INFO",
        ".venv/bin/python",
        "inventory.jsonl",
    ],
)
def test_the_build_context_leaves_out_tests_history_and_caches(path: str) -> None:
    assert ignored(path), path


@pytest.mark.parametrize(
    "path", ["pyproject.toml", "README.md", "sagemaker_inventory/cli/__init__.py"]
)
def test_the_build_context_keeps_what_the_wheel_is_made_of(path: str) -> None:
    assert not ignored(path), path
    package_data = list((ROOT / "sagemaker_inventory" / "data").glob("*.json"))
    assert package_data and not any(ignored(p.relative_to(ROOT).as_posix()) for p in package_data)


# Run inside the child before smi: every open for writing, directory made, file renamed or
# removed outside TMPDIR (and /dev) is printed at once on fd 2 (smi leaves through os._exit, so
# nothing may wait for the end).
AUDIT = """
import os, sys
ALLOWED = (os.path.realpath(os.environ["TMPDIR"]) + os.sep, "/dev/")
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND
PATH_EVENTS = {"os.mkdir", "os.rename", "os.remove", "os.rmdir", "os.symlink", "os.link",
               "os.truncate", "os.chmod", "os.chown", "os.utime", "shutil.rmtree"}

def outside(path):
    if isinstance(path, int):
        return False
    path = os.path.realpath(os.fsdecode(path))
    return not (path + os.sep).startswith(ALLOWED) and not path.startswith(ALLOWED)

def hook(event, args):
    if event == "open":
        path, mode, flags = args
        writing = (flags or 0) & WRITE_FLAGS or any(c in (mode or "") for c in "wax+")
        if writing and path is not None and outside(path):
            os.write(2, f"WRITE-OUTSIDE-TMP {event} {path!r}\\n".encode())
    elif event in PATH_EVENTS and args and outside(args[0]):
        os.write(2, f"WRITE-OUTSIDE-TMP {event} {args[0]!r}\\n".encode())

sys.addaudithook(hook)
sys.argv = ["smi", *sys.argv[1:]]
from sagemaker_inventory.cli import main
main()
"""


def run_as_in_the_image(
    tmp_path: Path, args: list[str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """smi with the image's environment: HOME read-only, the XDG places and TMPDIR under a
    scratch 'tmp', the working directory there too (WORKDIR /tmp)."""
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir(exist_ok=True)
    tmp.mkdir(exist_ok=True)
    home.chmod(0o555)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "XDG_", "SMI_"))}
    for name, value in image_environment().items():
        if name != "PATH":
            env[name] = value.replace("/tmp", str(tmp)).replace("/home/smi", str(home))
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-c", AUDIT, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp,
        env=env,
        timeout=300,
        check=False,
    )


def test_a_demo_run_and_a_report_write_nowhere_but_tmp(tmp_path: Path) -> None:
    demo = run_as_in_the_image(tmp_path, ["collect", "--demo", "-f", "jsonl"])
    assert demo.returncode == 0, demo.stderr
    assert "WRITE-OUTSIDE-TMP" not in demo.stderr, demo.stderr
    records = [json.loads(line) for line in demo.stdout.splitlines() if line.strip()]
    assert records and all(r["training_job_arn"] for r in records)
    report = run_as_in_the_image(tmp_path, ["report", "--by", "status", "-f", "json"], demo.stdout)
    assert report.returncode == 0, report.stderr
    assert "WRITE-OUTSIDE-TMP" not in report.stderr, report.stderr
    assert json.loads(report.stdout)["totals"]["jobs"] == len(records)


def test_the_audit_hook_does_see_a_write_outside_tmp(tmp_path: Path) -> None:
    """The check above would catch a write: -o to a place outside TMPDIR is reported."""
    target = tmp_path / "elsewhere"
    target.mkdir()
    run = run_as_in_the_image(tmp_path, ["schema", "-o", str(target / "schema.json")])
    assert f"WRITE-OUTSIDE-TMP open '{target}/" in run.stderr


def docker_engine() -> str | None:
    """Why the smoke test cannot run here, or None when a Docker engine answers."""
    if shutil.which("docker") is None:
        return "no docker command on PATH"
    try:
        info = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"docker info failed: {exc}"
    if info.returncode != 0 or not info.stdout.strip():
        return f"no Docker engine answers: {(info.stderr.strip().splitlines() or ['?'])[-1]}"
    return None


def test_the_smoke_script_builds_and_runs_the_image(tmp_path: Path) -> None:
    missing = docker_engine()
    if missing is not None:
        pytest.skip(f"scripts/smoke_image.sh needs Docker: {missing}")
    run = subprocess.run(
        [str(SMOKE), f"smi-test-smoke:{os.getpid()}"],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    assert "all checks passed" in run.stderr


def test_the_smoke_script_is_executable_bash() -> None:
    assert os.access(SMOKE, os.X_OK)
    assert SMOKE.read_text().startswith("#!/usr/bin/env bash\n")
    assert subprocess.run(["bash", "-n", str(SMOKE)], check=False).returncode == 0


def test_without_moto_the_demo_names_the_extra_to_install(tmp_path: Path) -> None:
    """What an image built with SMI_DEMO=false answers to --demo: exit 1 and the whole hint (the
    '[demo]' of the extra once vanished as console markup)."""
    hide_moto = "import sys; sys.modules['moto'] = None; " + AUDIT
    run = subprocess.run(
        [sys.executable, "-c", hide_moto, "collect", "--demo"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)},
        timeout=120,
        check=False,
    )
    assert run.returncode == 1, run.stderr
    assert "the demo needs moto: pip install 'sagemaker-inventory[demo]'" in run.stderr
    assert "Traceback" not in run.stderr


def stand_in_docker(tmp_path: Path) -> dict[str, str]:
    """An environment whose `docker` is tests/fake_docker.py."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "docker"
    fake = Path(__file__).resolve().parent / "fake_docker.py"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{fake}" "$@"\n')
    shim.chmod(0o755)
    state = tmp_path / "state"
    state.mkdir()
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    return {**os.environ, "PATH": path, "FAKE_DOCKER_STATE": str(state)}


def test_the_smoke_script_passes_against_a_stand_in_engine(tmp_path: Path) -> None:
    """The script's own logic where no engine runs: each check parses what it is given."""
    env = {**stand_in_docker(tmp_path), "SMOKE_TIMING_RUNS": "1"}
    run = subprocess.run(
        [str(SMOKE)], capture_output=True, text=True, env=env, timeout=600, check=False
    )
    assert run.returncode == 0, run.stderr[-4000:]
    assert "all checks passed" in run.stderr
    assert re.search(
        r"smi:smoke-slim: \d+ MB; docker run --version: median \d+ ms of 1", run.stdout
    )


def test_the_smoke_script_fails_when_the_demo_cannot_run(tmp_path: Path) -> None:
    env = {**stand_in_docker(tmp_path), "FAKE_DOCKER_NO_MOTO": "1"}
    run = subprocess.run(
        [str(SMOKE)], capture_output=True, text=True, env=env, timeout=600, check=False
    )
    assert run.returncode != 0
    assert "FAILED: demo as 10001:10001" in run.stderr


def test_the_images_moto_is_the_demo_extras_moto_without_the_server() -> None:
    """The image installs moto for --demo as the `demo` extra pins it, minus [server]."""
    # Read as text: tomllib is not in Python 3.10, which smi supports.
    found = re.search(r'^demo = \["(moto[^"]*)"\]$', (ROOT / "pyproject.toml").read_text(), re.M)
    assert found, "pyproject.toml: the demo extra is no longer moto alone"
    assert build_args()["DEMO_REQUIREMENT"] == found.group(1).replace("[server]", "")
