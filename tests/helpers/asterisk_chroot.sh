#!/usr/bin/env bash
# Builds a Debian chroot holding Asterisk (sid's package: Asterisk is in no stable Debian release) and packs it
# as a tar.zst, once: the tests' fixture (tests/asterisk_server.py) extracts it per session in 1-2 s instead of
# building for 30-40 s. Needs root, debootstrap and zstd. Recipe: ../shared/SERVERS.md, "Asterisk 22 with ARI".
#
#   tests/helpers/asterisk_chroot.sh [CACHE]     default $STANDARDISTE_ASTERISK_CHROOT or
#                                                ~/.cache/standardiste/asterisk-chroot.tar.zst
set -euo pipefail
cache="${1:-${STANDARDISTE_ASTERISK_CHROOT:-$HOME/.cache/standardiste/asterisk-chroot.tar.zst}}"
if [ -s "$cache" ]; then
    echo "asterisk chroot: cached at $cache"
    exit 0
fi
[ "$(id -u)" = 0 ] || { echo "asterisk chroot: must run as root (debootstrap, chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "asterisk chroot: debootstrap missing (apt-get install debootstrap zstd)" >&2; exit 2; }
command -v zstd >/dev/null || { echo "asterisk chroot: zstd missing (apt-get install debootstrap zstd)" >&2; exit 2; }

# The host's own mirror (a dated snapshot in CI and here): the only archive reachable.
mirror="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
mirror="${mirror:-http://deb.debian.org/debian}"
root="$(mktemp -d "${TMPDIR:-/tmp}/asterisk-chroot.XXXXXX")"
cleanup() { umount "$root/proc" 2>/dev/null || true; rm -rf "$root"; }
trap cleanup EXIT

debootstrap --variant=minbase trixie "$root" "$mirror" >/dev/null
echo "deb $mirror sid main" >> "$root/etc/apt/sources.list"
# The snapshot's sid Release file is past its Valid-Until date.
echo 'Acquire::Check-Valid-Until "false";' > "$root/etc/apt/apt.conf.d/99no-check-valid-until"
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"   # installed, never started by the package
chmod +x "$root/usr/sbin/policy-rc.d"
chroot "$root" apt-get update -qq
DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -qq --no-install-recommends \
    asterisk asterisk-modules asterisk-moh-opsound-gsm >/dev/null
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/*
mkdir -p "$(dirname "$cache")"
tar --zstd -C "$root" -cf "$cache.part" .
mv "$cache.part" "$cache"
echo "asterisk chroot: built $cache ($(du -h "$cache" | cut -f1))"
