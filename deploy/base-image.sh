#!/usr/bin/env bash
# A local base image for the Dockerfile on a machine that no registry serves node:* to: Debian
# bookworm (minbase, from Debian's mirror, made with debootstrap) plus this machine's Node.js and
# npm, with the `node` user (uid 1000) the Dockerfile expects, imported into podman.
#
#   bash deploy/base-image.sh         prints the image name: localhost/runner-base:node<version>-bookworm
#
# The root filesystem is cached as a tarball under ~/.cache/runner-image/ (outside the checkout,
# so a fresh clone on the same machine finds it too): a second run
# imports it again if the image is gone, or finds the image and does nothing. Needs root
# (debootstrap, chroot), debootstrap and podman. DEBIAN_MIRROR overrides the mirror.
set -euo pipefail
cd "$(dirname "$0")/.."

node_bin=$(readlink -f "$(command -v node)")
node_version=$("$node_bin" --version)
node_version=${node_version#v}
npm_dir=$(readlink -f "$(dirname "$(readlink -f "$(command -v npm)")")/..")
tag="localhost/runner-base:node${node_version}-bookworm"
cache=${XDG_CACHE_HOME:-$HOME/.cache}/runner-image
tarball="$cache/bookworm-minbase-node${node_version}.tar"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

say() { printf 'base-image: %s\n' "$*" >&2; }

if podman image exists "$tag"; then
  say "$tag is there"
  echo "$tag"
  exit 0
fi

if [ ! -s "$tarball" ]; then
  mkdir -p "$cache"
  root=$(mktemp -d /var/tmp/runner-base.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  say "debootstrap --variant=minbase bookworm from $mirror (a few minutes, once)"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
  say "adding node $node_version ($node_bin) and npm ($npm_dir)"
  install -m 0755 "$node_bin" "$root/usr/local/bin/node"
  mkdir -p "$root/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  # node is linked dynamically: copy any library it needs that minbase lacks (normally none).
  for lib in $(ldd "$node_bin" | awk '$3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
    if [ ! -e "$root$lib" ]; then
      say "copying $lib"
      mkdir -p "$root$(dirname "$lib")"
      cp -L "$lib" "$root$lib"
    fi
  done
  chroot "$root" /usr/local/bin/node -e 'process.stdout.write(`node ${process.version} runs in the base\n`)' >&2
  chroot "$root" groupadd --gid 1000 node
  chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* \
    "$root"/usr/share/man/*
  tar --numeric-owner -C "$root" -cf "$tarball.part" .
  mv "$tarball.part" "$tarball"
  say "cached $tarball ($(du -h "$tarball" | cut -f1))"
fi

say "podman import $tarball as $tag"
podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' \
  "$tarball" "$tag" >/dev/null
echo "$tag"
