#!/bin/sh
# Symbolises one window of the appliance's profile (app/profile.h: the profile and
# profile_port keys; tests/system/profile_fetch.py fetches it) with the ELF's symbols.
#
#   sh tests/bench/profile_report.sh [-n TOP] [-l LINES] ELF DUMP
#
# Prints the window's samples, its idle share, the TOP (default 15) functions by
# samples with their share of the busy samples and of all samples, and the counters per
# command: PDUs, copied bytes per payload byte, TCP segments per MiB of payload, device
# requests, notifications (kicks) and interrupts. With -l, also the LINES 16-byte
# buckets with the most samples and the source line of each (addr2line). POSIX sh and
# awk, `nm` and `addr2line` from binutils.
set -eu
top=15 lines=0
while [ $# -gt 2 ]; do
	case $1 in
	-n) top=$2 ;;
	-l) lines=$2 ;;
	*) break ;;
	esac
	shift 2
done
[ $# -eq 2 ] || { echo "usage: $0 [-n TOP] [-l LINES] ELF DUMP" >&2; exit 2; }
elf=$1 dump=$2
[ -r "$elf" ] || { echo "$0: $elf: not readable" >&2; exit 1; }
grep -q '^end$' "$dump" || { echo "$0: $dump: not a whole profile dump" >&2; exit 1; }

# Functions in address order, "address name": global and weak code symbols, and local
# ones that have a size (C functions); a local label without one (an assembly loop inside
# newlib's memcpy) belongs to the function before it. A bucket's samples go to the
# function at its first byte: gcc aligns functions to 16 bytes, the bucket size.
nm -n -S --defined-only "$elf" | awk '
	NF == 4 && $3 ~ /^[TtWw]$/ { print $1, $4 }
	NF == 3 && $2 ~ /^[TW]$/ && $3 != "__text_start" && $3 != "__text_end" { print $1, $3 }' |
awk -v top="$top" '
# Hex digits (with or without 0x) to a number: mawk has no strtonum. Addresses fit
# doubles exactly.
function hex(s,    i, v) {
	s = tolower(s)
	sub(/^0x/, "", s)
	v = 0
	for (i = 1; i <= length(s); i++)
		v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return v
}
# The last symbol at or below address a (symbols sorted ascending), or "?".
function symbol_of(a,    lo, hi, mid) {
	if (nsym == 0 || a < sym_addr[1])
		return "?"
	lo = 1; hi = nsym
	while (lo < hi) {
		mid = int((lo + hi + 1) / 2)
		if (sym_addr[mid] <= a) lo = mid; else hi = mid - 1
	}
	return sym_name[lo]
}
function per(a, b) { return b > 0 ? a / b : 0 }
function pct(a, b) { return b > 0 ? 100 * a / b : 0 }
FNR == NR { nsym++; sym_addr[nsym] = hex($1); sym_name[nsym] = $2; next }
$1 == "hz" { hz = $2 }
$1 == "window_ms" { window_ms = $2 }
$1 == "total" { total = $2 }
$1 == "idle" { idle = $2 }
$1 == "outside" { outside = $2 }
$1 == "sample" { f = symbol_of(hex($2)); if (!(f in samples)) order[++nfunc] = f; samples[f] += $3 }
$1 == "count" { c[$2] = $3 }
END {
	busy = total - idle
	printf "profile: %d samples at %d Hz (%.1f s), idle %.1f%%, busy %d samples", \
		total, hz, per(total, hz), pct(idle, total), busy
	if (outside > 0)
		printf ", %d outside the code", outside
	printf "\n"
	# Selection sort of the top entries: a few hundred functions at most.
	printf "top %d functions:\n  %8s %7s %7s  %s\n", top, "samples", "busy%", "all%", "function"
	for (r = 1; r <= top && r <= nfunc; r++) {
		best = 0
		for (i = 1; i <= nfunc; i++)
			if (!(order[i] in shown) && (best == 0 || samples[order[i]] > samples[order[best]]))
				best = i
		f = order[best]
		shown[f] = 1
		printf "  %8d %6.1f%% %6.1f%%  %s\n", samples[f], pct(samples[f], busy), \
			pct(samples[f], total), f
	}
	cmds = c["iscsi.commands"]
	payload = c["iscsi.rx_payload_bytes"] + c["iscsi.tx_payload_bytes"]
	mib = payload / 1048576
	segments = c["tcp.segments_in"] + c["tcp.segments_out"]
	printf "per command: %d commands, %.1f MiB in, %.1f MiB out\n", cmds, \
		c["iscsi.rx_payload_bytes"] / 1048576, c["iscsi.tx_payload_bytes"] / 1048576
	printf "  PDUs per command                %8.2f (in %.2f, out %.2f)\n", \
		per(c["iscsi.rx_pdus"] + c["iscsi.tx_pdus"], cmds), per(c["iscsi.rx_pdus"], cmds), \
		per(c["iscsi.tx_pdus"], cmds)
	printf "  copied bytes per payload byte   %8.2f (in %.2f, out %.2f)\n", \
		per(c["iscsi.rx_copied_bytes"] + c["iscsi.tx_copied_bytes"], payload), \
		per(c["iscsi.rx_copied_bytes"], c["iscsi.rx_payload_bytes"]), \
		per(c["iscsi.tx_copied_bytes"], c["iscsi.tx_payload_bytes"])
	printf "  TCP segments per MiB payload    %8.1f (in %d, out %d)\n", per(segments, mib), \
		c["tcp.segments_in"], c["tcp.segments_out"]
	printf "  device requests per command     %8.2f (%d requests, %d flushes)\n", \
		per(c["blk.requests"], cmds), c["blk.requests"], c["blk.flushes"]
	printf "  kicks per command               %8.2f (disk %.2f, net rx %.2f, net tx %.2f)\n", \
		per(c["blk.kicks"] + c["net.rx_kicks"] + c["net.tx_kicks"], cmds), \
		per(c["blk.kicks"], cmds), per(c["net.rx_kicks"], cmds), per(c["net.tx_kicks"], cmds)
	printf "  interrupts per command          %8.2f (halts %.2f)\n", \
		per(c["cpu.interrupts"], cmds), per(c["cpu.halts"], cmds)
}' - "$dump"

[ "$lines" -gt 0 ] || exit 0
# The hottest buckets: address, samples, then "function file:line" from addr2line.
echo "top $lines buckets (16 bytes each) and their source lines:"
awk '$1 == "sample" { print $3, $2 }' "$dump" | sort -nr | head -n "$lines" |
while read -r n address; do
	where=$(addr2line -f -s -e "$elf" "$address" | paste -sd ' ' -)
	printf '  %8d  %s  %s\n' "$n" "$address" "$where"
done
