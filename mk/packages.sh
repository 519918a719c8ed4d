#!/bin/sh
# Installs the Debian packages the build and the tests need, only those missing.
# Run as root (CI and the development machines are); prints nothing when all are there.
set -eu
need=""
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
done
[ -z "$need" ] && exit 0
echo "installing:$need"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $need >/dev/null
