#!/bin/sh
# Fetches lwIP's source from Debian's source package into $1 (a folder under build/deps).
# apt-get source needs a deb-src entry: we add one for the same archive and suites the
# machine already uses, by copying its deb822 file with Types: deb-src.
set -eu
dest=$1
src=/etc/apt/sources.list.d/debian.sources
srcs=/etc/apt/sources.list.d/qedbox-deb-src.sources
if [ ! -f "$srcs" ]; then
	sed 's/^Types: deb$/Types: deb-src/' "$src" > "$srcs"
	apt-get update -qq
fi
rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
(cd "$dest.tmp" && apt-get source -qq --download-only lwip >fetch.log 2>&1 && dpkg-source -x --skip-patches lwip_*.dsc src >>fetch.log 2>&1)
rm -rf "$dest" && mv "$dest.tmp/src" "$dest" && rm -rf "$dest.tmp"
