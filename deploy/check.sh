#!/usr/bin/env bash
# Validate the Prometheus artifacts with promtool: the rules, their unit tests and the config.
# Installs nothing: promtool comes with Debian's prometheus package (apt-get install prometheus)
# or the prometheus release tarball. Exits non-zero on the first failure.
set -euo pipefail

if ! command -v promtool >/dev/null 2>&1; then
  echo "deploy/check.sh: promtool not found (Debian: apt-get install prometheus)" >&2
  exit 127
fi

# The rule and config files name each other by relative path: run from their directory.
cd "$(dirname "$0")/prometheus"

promtool --version 2>&1 | sed -n 1p
promtool check rules alerts.yml
promtool test rules alerts.test.yml
promtool check config prometheus.yml
echo "deploy/check.sh: all promtool checks passed"
