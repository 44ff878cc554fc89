#!/usr/bin/env bash
# What deploy/image-test.sh and deploy/compose-test.sh need from the machine: podman, runc and
# debootstrap, any other tool named as an argument, and the engine configuration for a machine
# without systemd. As root on a fresh machine it installs what is missing with apt-get and writes
# /etc/containers/containers.conf when there is none; on a machine that has it all it changes
# nothing.
#
#   bash deploy/podman-host.sh [TOOL:PACKAGE ...]
#
# TOOL is a command looked up on PATH, or an absolute path; PACKAGE is the Debian package that
# provides it, e.g. podman-compose:podman-compose.
set -euo pipefail

say() { printf 'podman-host: %s\n' "$*"; }

missing=""
for wanted in podman:podman runc:runc debootstrap:debootstrap "$@"; do
  tool=${wanted%%:*}
  package=${wanted#*:}
  case "$tool" in
    /*) [ -e "$tool" ] || missing="$missing $package" ;;
    *) command -v "$tool" >/dev/null || missing="$missing $package" ;;
  esac
done
if [ -n "$missing" ]; then
  say "installing$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ ! -e /etc/containers/containers.conf ]; then
  # No systemd, no ulimit settings a VM may refuse, and runc (crun is not installed).
  say "writing /etc/containers/containers.conf"
  mkdir -p /etc/containers
  printf '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n' >/etc/containers/containers.conf
fi
