#!/usr/bin/env bash
# Bring compose.yaml up, unchanged, with podman-compose and prove the stack works: the postgres
# service becomes healthy; the runner service, built from ./Dockerfile on the local base (build
# argument NODE_IMAGE), starts after it, migrates, answers /readyz 200 on 127.0.0.1:9464 and
# /v1/admin/jobs/status only with the Basic credentials of a generated .env; Prometheus scrapes it
# (target `up`, job_runner_up 1, the alert rules loaded); then `down -v` leaves no container, pod,
# network or volume of the stack behind, failure or not (trap). Prints the time it took. Run by
# .ci/run after deploy/image-test.sh; as root on a fresh machine it installs what it needs
# (deploy/podman-host.sh).
#
#   bash deploy/compose-test.sh
#
# STAND-INS. No registry serves postgres:16 or prom/prometheus:v2.53.0 here, so unless those
# images are already on the machine, the script builds stand-ins from Debian's packages on the
# local base (deploy/compose-standins/) and tags them with the names compose.yaml uses: they are
# Debian's PostgreSQL 15 and Prometheus 2.42, NOT the upstream images. This proves compose.yaml's
# wiring (build, environment, the .env credentials, service names on the project network,
# published ports, volumes, the healthcheck command, the Prometheus config and alert rules loading)
# and runner against PostgreSQL 15 and Prometheus 2.42; it does not prove the upstream images'
# own entrypoints, PostgreSQL 16 or Prometheus 2.53.
#
# PODMAN-COMPOSE 1.0.3 (Debian bookworm) differs from docker compose in three ways this script
# makes up for: it reads `depends_on` as an order only (no `condition: service_healthy`) and, with
# no systemd, nothing runs healthchecks on a timer, so the script starts postgres alone, runs
# `podman healthcheck run` until it is healthy, then starts the rest; its `down` leaves the
# project's network, which the script removes; and it prints every `podman run` with the
# environment, secrets included, so its output goes to a private log shown redacted on failure.
#
# BASE_IMAGE: the NODE_IMAGE build argument and the stand-ins' base (default: deploy/base-image.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

say() { printf 'compose-test: %s\n' "$*"; }
fail() {
  printf 'compose-test: FAILED: %s\n' "$*" >&2
  exit 1
}

# --- the machine: podman, podman-compose, name resolution between containers ---------------------
# catatonit: podman's --init binary, which the runner service's `init: true` asks for.
bash deploy/podman-host.sh podman-compose:podman-compose /usr/libexec/podman/catatonit:catatonit
case "$(podman info --format '{{.Host.NetworkBackend}}')" in
  # Service names resolve on a project network only with the backend's DNS plugin.
  cni) bash deploy/podman-host.sh /usr/lib/cni/dnsname:golang-github-containernetworking-plugin-dnsname ;;
  netavark) bash deploy/podman-host.sh /usr/lib/podman/aardvark-dns:aardvark-dns ;;
esac
# podman-compose 1.0.3 lets a .env next to compose.yaml override the environment: with one there,
# the stack would not use the credentials generated below.
[ ! -e .env ] || fail "a .env next to compose.yaml would replace the test's generated credentials: move it away while the test runs"
for port in 9464 9090; do
  node -e 'const s = require("net").createServer().once("error", () => process.exit(1));
    s.listen(Number(process.argv[1]), "127.0.0.1", () => s.close())' "$port" ||
    fail "127.0.0.1:$port is in use, and compose.yaml publishes it (is another compose stack up?)"
done

# --- images: the runner's base, and stand-ins for the public images -----------------------------
base=${BASE_IMAGE:-$(bash deploy/base-image.sh)}
# A field of a compose.yaml service, as JSON (python3-yaml comes with podman-compose).
service_field() {
  python3 -c 'import json, sys, yaml
print(json.dumps(yaml.safe_load(open("compose.yaml"))["services"][sys.argv[1]].get(sys.argv[2])))' "$1" "$2"
}
# The image a service names, fully qualified as podman resolves the short name.
service_image() {
  local image
  image=$(service_field "$1" image | tr -d '"')
  [ "$image" != null ] || fail "compose.yaml names no image for the $1 service"
  case "$image" in
    */*/*) echo "$image" ;;
    */*) echo "docker.io/$image" ;;
    *) echo "docker.io/library/$image" ;;
  esac
}
stand_in() {
  local service=$1 image standing_in
  image=$(service_image "$service")
  if podman image exists "$image"; then
    standing_in=$(podman image inspect -f '{{index .Labels "runner.compose-test.stand-in"}}' "$image")
    if [ -z "$standing_in" ]; then
      say "$service: $image itself"
      return
    fi
  fi
  # Always built: podman's layer cache makes it quick when the Containerfile has not changed.
  podman build --format docker --network host --build-arg "BASE_IMAGE=$base" -t "$image" \
    "deploy/compose-standins/$service" >"$work/build-$service.log" 2>&1 ||
    { tail -30 "$work/build-$service.log" >&2; fail "building the $service stand-in failed"; }
  standing_in=$(podman image inspect -f '{{index .Labels "runner.compose-test.stand-in"}}' "$image")
  say "$service: $image is a STAND-IN: $standing_in"
}

# --- the project, its private files, and the teardown that runs whatever happens ----------------
project="runner-compose-test-$$"
work=$(mktemp -d)
torn_down=""
password=$(node -e 'process.stdout.write(require("crypto").randomBytes(24).toString("hex"))')
secret=$(node -e 'process.stdout.write(require("crypto").randomBytes(24).toString("hex"))')
(
  umask 077
  printf 'ADMIN_BASIC_USERNAME=ops\nADMIN_BASIC_PASSWORD=%s\nINTERNAL_SECRET=%s\n' "$password" "$secret" >"$work/.env"
)
compose() {
  (
    set -a
    . "$work/.env"
    set +a
    exec podman-compose -f compose.yaml -p "$project" "$@"
  ) >>"$work/compose.log" 2>&1
}
show_compose_log() { sed -e "s/$password/<password>/g" -e "s/$secret/<secret>/g" "$work/compose.log" | tail -30 >&2; }
container() { echo "${project}_$1_1"; }
show_logs() { podman logs "$(container "$1")" 2>&1 | tail -20 >&2 || true; }
# podman-compose 1.0.3 exits 0 whatever its podman commands did: ask podman.
running() { [ "$(podman inspect -f '{{.State.Running}}' "$(container "$1")" 2>/dev/null)" = true ]; }
must_run() {
  local service
  for service in "$@"; do
    running "$service" || { show_compose_log; show_logs "$service"; fail "the $service service is not running"; }
  done
}
label="label=io.podman.compose.project=$project"
volumes=""
# What the stack still has: its containers, pods, networks and volumes (named, or anonymous ones
# its containers mounted).
leftovers() {
  podman ps -a -q --filter "$label" | sed 's/^/container /'
  podman pod ls -q --filter "name=$project" | sed 's/^/pod /'
  podman network ls -q --filter "$label" | sed 's/^/network /'
  {
    podman volume ls -q --filter "$label"
    for v in $volumes; do if podman volume exists "$v"; then echo "$v"; fi; done
  } | sort -u | sed 's/^/volume /'
}
# Recorded before the teardown: podman-compose's down would not remove an anonymous volume.
record_volumes() {
  volumes=$(podman ps -a -q --filter "$label" | xargs -r podman inspect -f '{{range .Mounts}}{{.Name}} {{end}}' | xargs)
}
teardown() {
  compose down -v -t 45
  # podman-compose 1.0.3's down removes containers, pods and volumes, never networks.
  podman network ls -q --filter "$label" | xargs -r podman network rm >/dev/null
}
on_exit() {
  local code=$? left
  if [ -z "$torn_down" ]; then
    say "cleaning up (down -v)"
    [ -n "$volumes" ] || record_volumes || true
    teardown || true
    left=$(leftovers || true)
    if [ -n "$left" ]; then
      say "down -v left $(echo "$left" | tr '\n' ' ')- removing them"
      podman ps -a -q --filter "$label" | xargs -r podman rm -f -v >/dev/null 2>&1 || true
      podman pod ls -q --filter "name=$project" | xargs -r podman pod rm -f >/dev/null 2>&1 || true
      podman network ls -q --filter "$label" | xargs -r podman network rm -f >/dev/null 2>&1 || true
      echo "$left" | awk '$1 == "volume" { print $2 }' | xargs -r podman volume rm -f >/dev/null 2>&1 || true
    fi
    left=$(leftovers || true)
    if [ -z "$left" ]; then
      say "nothing of $project is left"
    else
      printf 'compose-test: still there: %s\n' "$left" >&2
      code=1
    fi
  fi
  rm -rf "$work"
  say "took $(($(date +%s) - started)) s"
  exit "$code"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

stand_in postgres
stand_in prometheus

# --- build the runner service from ./Dockerfile on the local base --------------------------------
# --format docker keeps the image's HEALTHCHECK; behind a TLS-inspecting proxy its CA is mounted
# for npm ci, as in deploy/image-test.sh.
build_args="--format docker --network host"
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  build_args="$build_args -v $NODE_EXTRA_CA_CERTS:/run/build-ca.pem:ro --build-arg NODE_EXTRA_CA_CERTS=/run/build-ca.pem"
fi
say "building the runner service (compose.yaml's build:, NODE_IMAGE=$base)"
compose --podman-build-args "$build_args" build --build-arg "NODE_IMAGE=$base" runner
# It exits 0 even when podman build fails; its log ends each command with "exit code: N".
grep -q '^exit code: [1-9]' "$work/compose.log" && { show_compose_log; fail "podman-compose build failed"; }

# --- postgres first, healthy, then the rest ------------------------------------------------------
say "up postgres (project $project)"
compose up -d postgres
postgres=$(container postgres)
for _ in $(seq 1 60); do
  must_run postgres
  podman healthcheck run "$postgres" >/dev/null 2>&1 && break
  sleep 1
done
health=$(podman inspect -f '{{.State.Health.Status}}' "$postgres")
[ "$health" = healthy ] || { show_logs postgres; fail "postgres is $health, not healthy, after 60 checks"; }
healthy_at=$(date +%s)
say "postgres healthy ($(podman exec "$postgres" postgres --version))"

say "up (runner, prometheus)"
compose up -d
must_run postgres runner prometheus
runner=$(container runner)
runner_started=$(podman inspect -f '{{.State.StartedAt.Unix}}' "$runner")
[ "$runner_started" -ge "$healthy_at" ] || fail "the runner started before postgres was healthy"
say "runner: started $((runner_started - healthy_at)) s after postgres was healthy"

ready=""
for _ in $(seq 1 120); do
  ready=$(node -e 'fetch(process.argv[1]).then((r) => console.log(r.status), () => console.log(0))' http://127.0.0.1:9464/readyz)
  [ "$ready" = 200 ] && break
  must_run runner
  sleep 1
done
[ "$ready" = 200 ] || { show_logs runner; fail "/readyz on 127.0.0.1:9464 answered $ready, not 200"; }
say "runner: /readyz 200 on 127.0.0.1:9464"

applied=$(podman exec "$postgres" psql -U postgres -d runner -XAtc 'select count(*) from runner_migrations')
files=$(find sql -maxdepth 1 -name '*.sql' | wc -l)
[ "$applied" = "$files" ] || fail "runner_migrations holds $applied migrations, sql/ has $files"
say "runner: migrated ($applied migrations in the postgres service's database runner)"

# compose.yaml's healthcheck test, run as docker compose runs a CMD test: argv, no shell.
# podman-compose 1.0.3 turns a CMD test into a `/bin/sh -c` string without quoting it for that
# shell, so the test it gives podman is a shell syntax error: reported, not counted.
mapfile -t health_test < <(service_field runner healthcheck | python3 -c 'import json, sys
test = json.load(sys.stdin)["test"]
assert test[0] == "CMD", "the runner healthcheck is not a CMD test"
print("\n".join(test[1:]))')
podman exec "$runner" "${health_test[@]}" || { show_logs runner; fail "compose.yaml's runner healthcheck (${health_test[*]}) fails in the container"; }
say "runner: compose.yaml's healthcheck passes (exec form, as docker compose runs it)"
if podman healthcheck run "$runner" >/dev/null 2>&1; then
  say "runner: podman's healthcheck (podman-compose's translation of it) passes too"
else
  say "note: podman's healthcheck from podman-compose's translation fails (its CMD quoting); docker compose is not affected"
fi

# --- the admin API: the generated credentials and nothing else ----------------------------------
# The Authorization header goes through the environment, not argv, where ps would show it.
admin_status() {
  AUTH="$1" node -e '
    const headers = process.env.AUTH ? { authorization: process.env.AUTH } : {};
    fetch("http://127.0.0.1:9464/v1/admin/jobs/status", { headers })
      .then(async (r) => console.log(r.status, r.ok ? (await r.json()).jobs.map((j) => j.name).join(",") : ""),
        () => console.log(0))'
}
basic() { printf 'Basic %s' "$(printf '%s:%s' "$1" "$2" | base64 -w0)"; }
answer=$(admin_status "")
[ "${answer%% *}" = 401 ] || fail "/v1/admin/jobs/status without credentials answered $answer, not 401"
answer=$(admin_status "$(basic ops wrong-password)")
[ "${answer%% *}" = 401 ] || fail "/v1/admin/jobs/status with a wrong password answered $answer, not 401"
answer=$(admin_status "$(basic ops "$password")")
[ "${answer%% *}" = 200 ] || fail "/v1/admin/jobs/status with the .env credentials answered $answer, not 200"
case ",${answer#* }," in *,storage_janitor,*) ;; *) fail "the status lists no storage_janitor: ${answer#* }" ;; esac
say "admin API: 401 without credentials and with a wrong password, 200 with the .env's (jobs ${answer#* })"

# --- Prometheus: the runner target up, job_runner_up 1, the alert rules loaded ------------------
prometheus() {
  node -e '
    fetch("http://127.0.0.1:9090" + process.argv[1]).then((r) => r.json())
      .then((body) => console.log(new Function("body", "return " + process.argv[2])(body) ?? ""), () => console.log(""))' "$1" "$2"
}
target=""
for _ in $(seq 1 90); do
  target=$(prometheus /api/v1/targets 'body.data.activeTargets.filter((t) => t.labels.job === "runner").map((t) => `${t.scrapeUrl} ${t.health}`).join()')
  [ "${target##* }" = up ] && break
  must_run prometheus
  sleep 1
done
[ "${target##* }" = up ] || { show_logs prometheus; fail "Prometheus's runner target is '$target', not up"; }
say "prometheus: target $target"
up=$(prometheus '/api/v1/query?query=job_runner_up' 'body.data.result.map((s) => `${s.metric.instance}=${s.value[1]}`).join()')
[ "${up##*=}" = 1 ] || fail "job_runner_up is '$up', not 1"
rules=$(prometheus /api/v1/rules 'body.data.groups.flatMap((g) => g.rules).length')
alerts=$(grep -c '^ *- alert:' deploy/prometheus/alerts.yml)
[ "$rules" = "$alerts" ] || fail "Prometheus loaded ${rules:-no} alert rules, deploy/prometheus/alerts.yml has $alerts"
say "prometheus: job_runner_up $up; $rules alert rules loaded; $(prometheus /api/v1/status/buildinfo '`Prometheus ${body.data.version}`')"

# --- down -v, and nothing left --------------------------------------------------------------------
record_volumes
say "down -v (volumes: $volumes)"
teardown || { show_compose_log; fail "podman-compose down -v failed"; }
left=$(leftovers)
[ -z "$left" ] || fail "down -v left $(echo "$left" | tr '\n' ' ')"
torn_down=yes
say "down -v left no container, pod, network or volume of $project"
say "all checks passed"
