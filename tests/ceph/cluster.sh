#!/bin/sh
# A throw-away single-node Ceph cluster for the tests: one monitor and one bluestore OSD
# on a sparse file, on 127.0.0.1 only, no manager, no authentication, everything (data,
# sockets, logs, pids) in one folder. Debian's ceph-mon, ceph-osd and ceph-common.
#
#   sh tests/ceph/cluster.sh up DIR     bring it up in DIR (made empty), print
#                                       "# ceph bring-up: N s"; DIR/ceph.conf is the
#                                       client configuration, pool "rbd" is ready for I/O
#   sh tests/ceph/cluster.sh down DIR   stop the daemons DIR/pids names (by pid), bounded
#
# `up` fails (status 1, the daemons stopped) when a step does not finish in its bound;
# status 77 when the packages are missing. The daemons run in the foreground of
# background jobs, so their pids are ours, not read from files they might not write.
# Pitfalls met on the way: bluestore's block file must not be $osd_data/block (mkfs
# makes that a symlink to it); without a manager some `ceph` commands hang, so
# readiness is proven with real I/O (`rbd pool init`), and every command is bounded.
set -u
cmd=${1:-} D=${2:-}
[ -n "$cmd" ] && [ -n "$D" ] || { echo "usage: $0 up|down DIR" >&2; exit 2; }

# Bounded ceph/rbd commands on this cluster.
ceph_() { timeout -k 5 "${BOUND:-30}" ceph -c "$D/ceph.conf" --connect-timeout 20 "$@"; }
rbd_() { timeout -k 5 "${BOUND:-60}" rbd -c "$D/ceph.conf" "$@"; }

down() {
	[ -f "$D/pids" ] || return 0
	pids=$(cat "$D/pids")
	for p in $pids; do kill "$p" 2>/dev/null; done
	# A daemon gets 10 s to stop on SIGTERM, then SIGKILL.
	for _ in $(seq 100); do
		alive=
		for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ -z "$alive" ] && break
		sleep 0.1
	done
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	rm -f "$D/pids"
}

fail() {
	echo "ceph: $*"
	for f in "$D"/log/*.log; do [ -f "$f" ] && tail -n 5 "$f" | sed "s|^|    $(basename "$f"): |"; done
	down
	exit 1
}

# A free TCP port on 127.0.0.1 for the monitor.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

write_conf() {
	cat >"$D/ceph.conf" <<EOF
# Throw-away test cluster (tests/ceph/cluster.sh): 127.0.0.1 only, no authentication.
[global]
fsid = $1
mon host = [v1:127.0.0.1:$2]
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr2 = false

auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
run dir = $D/run
admin socket = $D/run/\$name.asok
log file = $D/log/\$name.log
log to stderr = false
err to stderr = false
mon data = $D/mon/\$name
osd data = $D/osd/\$name
osd objectstore = bluestore
bluestore block path = $D/osd-block.\$id
bluestore block create = true
bluestore block size = 4294967296
bluestore cache size = 134217728
osd memory target = 536870912
osd pool default size = 1
osd pool default min size = 1
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 1
# The OSD's own start-up commands to the monitor (crush location, device class) once
# failed with "wrong fsid" on a loaded machine: the script places it in the map instead.
osd crush update on start = false
osd class update on start = false
EOF
}

up() {
	for t in ceph-mon ceph-osd ceph rbd monmaptool uuidgen; do
		command -v $t >/dev/null || { echo "$t not installed (ceph-mon ceph-osd ceph-common)"; exit 77; }
	done
	started=$(date +%s)
	rm -rf "$D" && mkdir -p "$D/run" "$D/log" "$D/mon" "$D/osd/osd.0" || exit 1
	: >"$D/pids"
	fsid=$(uuidgen) port=$(free_port)
	write_conf "$fsid" "$port"
	monmaptool --create --addv a "[v1:127.0.0.1:$port]" --fsid "$fsid" "$D/monmap" >/dev/null ||
		fail "monmaptool"
	timeout 60 ceph-mon -c "$D/ceph.conf" --mkfs -i a --monmap "$D/monmap" || fail "ceph-mon --mkfs"
	ceph-mon -c "$D/ceph.conf" -f -i a >"$D/log/mon.a.out" 2>&1 &
	echo $! >>"$D/pids"
	osd_uuid=$(uuidgen)
	id=$(ceph_ osd new "$osd_uuid") || fail "ceph osd new (monitor not answering)"
	[ "$id" = 0 ] || fail "ceph osd new gave id '$id'"
	timeout 120 ceph-osd -c "$D/ceph.conf" -i 0 --mkfs --osd-uuid "$osd_uuid" \
		>"$D/log/osd-mkfs.out" 2>&1 || fail "ceph-osd --mkfs"
	ceph_ osd crush add osd.0 1.0 root=default >/dev/null 2>&1 || fail "ceph osd crush add"
	ceph-osd -c "$D/ceph.conf" -f -i 0 >"$D/log/osd.0.out" 2>&1 &
	echo $! >>"$D/pids"
	ceph_ osd pool create rbd 8 8 >/dev/null 2>&1 || fail "ceph osd pool create"
	# Real I/O to the pool is the readiness check (the OSD is up and the PGs active).
	BOUND=90 rbd_ pool init rbd || fail "rbd pool init (the OSD never served)"
	echo "# ceph bring-up: $(($(date +%s) - started)) s"
}

case $cmd in
up) up ;;
down) down ;;
*) echo "usage: $0 up|down DIR" >&2; exit 2 ;;
esac
