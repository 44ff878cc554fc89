#!/usr/bin/env bash
# Validate the Prometheus artifacts with promtool (Debian's prometheus package).
set -euo pipefail
cd "$(dirname "$0")/prometheus"
promtool check rules alerts.yml
promtool test rules alerts.test.yml
promtool check config prometheus.yml
