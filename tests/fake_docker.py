"""A stand-in for the `docker` command, enough of it for scripts/smoke_image.sh, so that the
script's own logic (its checks, their parsing, its exit status) is tested where no engine runs.

`build` records the tag (SMI_DEMO=false: an image without moto); `image inspect -f` answers the
user the Dockerfile sets and a made-up size; `run` runs this checkout's smi in a subprocess with
the image's environment (its /tmp a scratch directory), the Dockerfile's entrypoint and command,
and moto hidden for an image built without it. No isolation is emulated: `--read-only`, `--user`
and the like are accepted and ignored, and a `python` entrypoint asked for its uid answers the
image's (this process cannot change its own). The state lives in FAKE_DOCKER_STATE (a directory).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_image import ROOT, arguments, final_stage, image_environment

VALUED = {"--tmpfs", "--cap-drop", "--security-opt", "--network", "--user", "--entrypoint", "-t"}
UID_PROBE = ["-c", "import os; print(os.getuid())"]


def state_file() -> Path:
    return Path(os.environ["FAKE_DOCKER_STATE"]) / "images.json"


def images() -> dict[str, bool]:
    """Tag -> whether the image has moto."""
    path = state_file()
    return json.loads(path.read_text()) if path.exists() else {}


def build(args: list[str]) -> int:
    tag = args[args.index("-t") + 1]
    known = images()
    # FAKE_DOCKER_NO_MOTO: a broken build, for the script's failure path.
    known[tag] = "SMI_DEMO=false" not in args and not os.environ.get("FAKE_DOCKER_NO_MOTO")
    state_file().write_text(json.dumps(known))
    print("sha256:" + "0" * 64)
    return 0


def inspect(args: list[str]) -> int:
    form, tag = args[args.index("-f") + 1], args[-1]
    if tag not in images():
        print(f"Error: No such image: {tag}", file=sys.stderr)
        return 1
    print({"{{.Config.User}}": image_user(), "{{.Size}}": "123456789"}[form])
    return 0


def image_user() -> str:
    return next(rest for head, rest in final_stage() if head == "USER")


def run(args: list[str]) -> int:
    options: dict[str, str] = {}
    index = 0
    while args[index].startswith("-"):
        flag = args[index]
        options[flag] = args[index + 1] if flag in VALUED else ""
        index += 2 if flag in VALUED else 1
    tag, rest = args[index], args[index + 1 :]
    if tag not in images():
        print(f"Unable to find image '{tag}'", file=sys.stderr)
        return 125
    entrypoint = options.get("--entrypoint")
    if entrypoint == "python" and rest == UID_PROBE:
        print(options.get("--user", image_user()).partition(":")[0])
        return 0
    command = rest or json.loads(arguments("CMD")[-1])
    return _smi(command, has_moto=images()[tag], interactive="-i" in options)


def _smi(command: list[str], has_moto: bool, interactive: bool) -> int:
    scratch = Path(os.environ["FAKE_DOCKER_STATE"]) / "tmp"
    scratch.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "XDG_", "SMI_"))}
    for name, value in image_environment().items():
        if name != "PATH":
            env[name] = value.replace("/tmp", str(scratch))
    env["PYTHONPATH"] = str(ROOT)
    hide = "" if has_moto else "sys.modules['moto'] = None; "
    code = f"import sys; {hide}sys.argv = ['smi', *sys.argv[1:]]; "
    code += "from sagemaker_inventory.cli import main; main()"
    stdin = None if interactive else subprocess.DEVNULL
    return subprocess.run(
        [sys.executable, "-c", code, *command], env=env, cwd=scratch, stdin=stdin, check=False
    ).returncode


def main(argv: list[str]) -> int:
    if argv[:1] == ["build"]:
        return build(argv[1:])
    if argv[:2] == ["image", "inspect"]:
        return inspect(argv[2:])
    if argv[:1] == ["run"]:
        return run(argv[1:])
    print(f"fake docker: {' '.join(argv)} is not emulated", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
