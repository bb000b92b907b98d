#!/usr/bin/env bash
# Build smi's container image and smoke-test it the way a scheduler runs it: read-only root file
# system with a tmpfs on /tmp, a non-root user (the image's, then an arbitrary one), no network.
# Needs a working Docker engine; run from anywhere: scripts/smoke_image.sh [TAG]
# (SMOKE_TIMING_RUNS=N: how many `--version` runs are timed per image; default 5)
# Prints the images' sizes and the wall time of `--version` (for docs/benchmarks.md); exits non-zero
# on the first failed check.
set -euo pipefail
cd "$(dirname "$0")/.."

tag="${1:-smi:smoke}"
slim_tag="${tag}-slim"
timing_runs="${SMOKE_TIMING_RUNS:-5}"  # runs of `--version` timed per image (odd: a true median)
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml)"
# How a CronJob or a Fargate task runs it: nothing writable but /tmp, no root, no capabilities.
locked=(--rm --read-only --tmpfs /tmp:rw,nosuid,nodev,size=64m --cap-drop ALL
        --security-opt no-new-privileges --network none)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fail() {
  echo "smoke_image: FAILED: $*" >&2
  exit 1
}

check() {  # check DESCRIPTION: print it before the step it names
  echo "smoke_image: $*" >&2
}

check "build $tag (with moto, for --demo)"
docker build --quiet -t "$tag" . >/dev/null
check "build $slim_tag (SMI_DEMO=false)"
docker build --quiet --build-arg SMI_DEMO=false -t "$slim_tag" . >/dev/null

check "the image's user is a fixed non-root UID"
user="$(docker image inspect -f '{{.Config.User}}' "$tag")"
[ "$user" = "10001:10001" ] || fail "USER is '$user', not 10001:10001"
uid="$(docker run "${locked[@]}" --entrypoint python "$tag" -c 'import os; print(os.getuid())')"
[ "$uid" = "10001" ] || fail "runs as uid $uid"

check "--version names $version"
# Captured, not piped into grep -q: with pipefail, grep leaving early could fail the pipe.
out="$(docker run "${locked[@]}" "$tag" --version)" || fail "--version exited $?"
[[ "$out" == *"$version"* ]] || fail "--version printed '$out'"

check "the default command prints the help"
docker run "${locked[@]}" "$tag" >"$work/help.txt" || fail "default CMD exited $?"
grep -q "Usage: smi" "$work/help.txt" || fail "no usage text from the default CMD"

for who in 10001:10001 4242:4242; do
  check "collect --demo, read-only root, user $who"
  docker run "${locked[@]}" --user "$who" "$tag" collect --demo -f jsonl \
    >"$work/demo.jsonl" 2>"$work/demo.err" || { cat "$work/demo.err" >&2; fail "demo as $who"; }
  python3 - "$work/demo.jsonl" <<'PY' || fail "demo records as $who"
import json, sys
records = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
assert records, "no records"
assert all(r["training_job_name"] and r["training_job_arn"] for r in records)
print(f"smoke_image: {len(records)} demo records", file=sys.stderr)
PY
done

check "a plain --read-only run: the /tmp VOLUME is writable without a tmpfs"
docker run --rm --read-only --network none "$tag" collect --demo -f jsonl >/dev/null \
  || fail "demo with --read-only and no --tmpfs"

check "report reads the demo inventory on stdin (its spool goes to /tmp)"
docker run -i "${locked[@]}" "$tag" report --by status -f json <"$work/demo.jsonl" \
  >"$work/report.json" || fail "report"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["totals"]["jobs"] > 0' \
  "$work/report.json" || fail "report totals"

check "$slim_tag runs, and says what --demo needs (exit 1, no traceback)"
out="$(docker run "${locked[@]}" "$slim_tag" --version)" || fail "slim --version exited $?"
[[ "$out" == *"$version"* ]] || fail "slim --version printed '$out'"
set +e
docker run "${locked[@]}" "$slim_tag" collect --demo 2>"$work/slim.err" >/dev/null
status=$?
set -e
[ "$status" = 1 ] || fail "slim collect --demo exited $status, not 1"
grep -qF "pip install 'sagemaker-inventory[demo]'" "$work/slim.err" \
  || fail "slim collect --demo does not say what to install"
if grep -q "Traceback" "$work/slim.err"; then fail "slim collect --demo printed a traceback"; fi

# Figures for the benchmark page: measured here, on this engine, never copied from elsewhere.
for image in "$tag" "$slim_tag"; do
  bytes="$(docker image inspect -f '{{.Size}}' "$image")"
  times=()
  for _ in $(seq "$timing_runs"); do
    start="$(date +%s%N)"
    docker run "${locked[@]}" "$image" --version >/dev/null
    times+=($(( ($(date +%s%N) - start) / 1000000 )))
  done
  median="$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (timing_runs + 1) / 2 ))p")"
  echo "smoke_image: $image: $((bytes / 1000000)) MB;" \
    "docker run --version: median ${median} ms of $timing_runs"
done
echo "smoke_image: all checks passed" >&2
