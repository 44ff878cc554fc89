#!/usr/bin/env bash
# Build the image with podman and prove it works: it runs as its non-root user against a real
# PostgreSQL (host networking), reads a mounted jobs file, answers /readyz 200, passes its own
# HEALTHCHECK, and on SIGTERM during a run exits 0 within the grace with the run recorded
# `interrupted`. Prints the image size. Run by .ci/run; as root on a fresh machine it installs
# podman, runc and debootstrap and writes /etc/containers/containers.conf when they are missing
# (deploy/podman-host.sh).
#
#   bash deploy/image-test.sh
#
# BASE_IMAGE: the Dockerfile's NODE_IMAGE; by default a local Debian bookworm + this machine's
# Node.js (deploy/base-image.sh), since no registry serves node:* here.
# TEST_DATABASE_URL: the server the container uses (default postgres://postgres@127.0.0.1:5432/test);
# the test works in a schema of its own and drops it.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'image-test: %s\n' "$*"; }
fail() {
  printf 'image-test: FAILED: %s\n' "$*" >&2
  exit 1
}

# --- podman, runc, debootstrap and the engine configuration ---------------------------------------
bash deploy/podman-host.sh

# --- build --------------------------------------------------------------------------------------
base=${BASE_IMAGE:-$(bash deploy/base-image.sh)}
image=localhost/runner:image-test
say "building $image on $base"
# --format docker keeps the HEALTHCHECK (the OCI format has no such field). Behind a TLS-inspecting
# proxy (NODE_EXTRA_CA_CERTS set here), its CA is mounted for npm ci and not kept in the image.
ca_args=()
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  ca_args=(-v "$NODE_EXTRA_CA_CERTS:/run/build-ca.pem:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/build-ca.pem)
fi
build_log=$(mktemp)
podman build --format docker --network host --build-arg "NODE_IMAGE=$base" "${ca_args[@]}" \
  -t "$image" . >"$build_log" 2>&1 || { tail -30 "$build_log" >&2; fail "podman build failed"; }
rm -f "$build_log"
healthcheck=$(podman image inspect -f '{{.HealthCheck.Test}}' "$image")
[ -n "$healthcheck" ] && [ "$healthcheck" != "[]" ] || fail "the image has no HEALTHCHECK"

# --- run ----------------------------------------------------------------------------------------
database=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
schema="image_test_$(date +%s)_$$"
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
grace=3
work=$(mktemp -d)
container="runner-image-test-$$"
psql_q() { psql "$database" -XAtq -c "set search_path to \"$schema\"; $1"; }
cleanup() {
  podman rm -f "$container" >/dev/null 2>&1 || true
  psql "$database" -Xq -c "drop schema if exists \"$schema\" cascade" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
show_logs() { podman logs "$container" 2>&1 | tail -20 >&2 || true; }

# One job, every second, that sleeps a minute: its first run is going on when SIGTERM comes.
cat >"$work/jobs.yaml" <<'YAML'
jobs:
  - name: long_sleep
    schedule: "* * * * * *"
    command:
      argv: ["sleep", "60"]
YAML
chmod 0644 "$work/jobs.yaml"

say "running it (port $port, schema $schema)"
# --health-interval disable: no systemd here to run the periodic check; it is run by hand below.
podman run -d --name "$container" --network host --health-interval disable \
  -v "$work/jobs.yaml:/etc/runner/jobs.yaml:ro" \
  -e "DATABASE_URL=$database" -e "DATABASE_SCHEMA=$schema" \
  -e HTTP_HOST=127.0.0.1 -e "HTTP_PORT=$port" \
  -e JOB_RUNNER_ID=image-test -e "SHUTDOWN_GRACE_SECONDS=$grace" \
  "$image" run --interval 1 --jobs /etc/runner/jobs.yaml >/dev/null 2>"$work/podman-run.err" ||
  { cat "$work/podman-run.err" >&2; fail "podman run failed"; }

uid=$(podman exec "$container" id -u)
[ "$uid" != 0 ] || fail "the container runs as root"
say "runs as uid $uid ($(podman exec "$container" id -un))"

ready=""
for _ in $(seq 1 120); do
  ready=$(node -e 'fetch(process.argv[1]).then((r) => console.log(r.status), () => console.log(0))' \
    "http://127.0.0.1:$port/readyz")
  [ "$ready" = 200 ] && break
  [ "$(podman inspect -f '{{.State.Running}}' "$container")" = true ] || { show_logs; fail "the container exited"; }
  sleep 0.5
done
[ "$ready" = 200 ] || { show_logs; fail "/readyz answered $ready, not 200"; }
say "/readyz 200"

podman healthcheck run "$container" || { show_logs; fail "the image's HEALTHCHECK failed"; }
say "HEALTHCHECK healthy: $healthcheck"

run_id=""
for _ in $(seq 1 120); do
  run_id=$(psql_q "select id from job_runs where job_name = 'long_sleep' and status = 'running' limit 1" 2>/dev/null || true)
  [ -n "$run_id" ] && break
  sleep 0.5
done
[ -n "$run_id" ] || { show_logs; fail "no run of long_sleep started"; }
say "run $run_id of long_sleep (from the mounted jobs file) is going on; SIGTERM"

started=$(date +%s%N)
podman kill --signal TERM "$container" >/dev/null
code=$(timeout $((grace + 30)) podman wait "$container") || { show_logs; fail "still running $((grace + 30)) s after SIGTERM"; }
took=$((($(date +%s%N) - started) / 1000000))
[ "$code" = 0 ] || { show_logs; fail "exit code $code after SIGTERM, not 0"; }
status=$(psql_q "select status from job_runs where id = $run_id")
[ "$status" = interrupted ] || { show_logs; fail "run $run_id is recorded '$status', not 'interrupted'"; }
# From the runner's own log: the signal received, to the process stopped (the grace, then the
# outcome written and the database closed). podman's figure adds the container's teardown.
stop_ms=$(podman logs "$container" 2>&1 | node -e '
  const lines = require("fs").readFileSync(0, "utf8").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  const at = (msg) => Date.parse(lines.find((l) => l.msg === msg)?.time);
  console.log(at("runner stopped") - at("stopping: waiting for running jobs"));')
case "$stop_ms" in '' | NaN | *[!0-9]*) show_logs; fail "no stopping/stopped log lines" ;; esac
[ "$stop_ms" -le $((grace * 1000 + 2000)) ] || fail "the runner took ${stop_ms} ms to stop, over the ${grace} s grace + 2 s"
say "exit 0: the runner stopped ${stop_ms} ms after SIGTERM (grace ${grace} s), the container ${took} ms after"
say "run $run_id recorded interrupted"

size=$(podman image inspect -f '{{.Size}}' "$image")
base_size=$(podman image inspect -f '{{.Size}}' "$base")
say "image $image: $((size / 1000000)) MB (base $base: $((base_size / 1000000)) MB)"
say "all checks passed"
