#!/bin/sh
# The sampling profiler end to end (the profile and profile_port keys): the appliance
# boots with profile on, the PIT's IRQ 0 is routed as an NMI, and the dump port serves a
# window per connection. After some iSCSI I/O (QEMU's initiator: writes, reads, a flush)
# the window holds busy and idle samples inside the code, the top functions symbolise to
# the ELF's functions (tests/bench/profile_report.sh), and the counters moved as the I/O
# says (commands, PDUs, payload both ways, TCP segments, disk requests and flushes,
# notifications, interrupts). The next window, with no I/O, starts from zero.
. "$(dirname "$0")/lib.sh"
command -v qemu-io >/dev/null || { echo "qemu-io not installed"; exit 77; }
command -v nm >/dev/null || { echo "nm (binutils) not installed"; exit 77; }
CR=$(printf "\r")
PREFIX=iqn.2026-11.org.qedbox
D=$TEST_TMP

qemu-img create -q -f qed "$D/vol.qed" 64M && truncate -s 128M "$D/vol.qed"
PORT=$(free_port) DUMP_PORT=$(free_port)
qemu_start profile 600 -M q35 -m 256M -kernel "$ELF" \
	-append "exit=debug portal=127.0.0.1:$PORT profile profile_port=3270" \
	-drive "if=none,id=d0,file=$D/vol.qed,format=raw,cache=unsafe" \
	-device virtio-blk-pci,drive=d0,serial=prof0 \
	-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-:3260,hostfwd=tcp:127.0.0.1:$DUMP_PORT-:3270" \
	-device virtio-net-pci,netdev=n0
qemu_wait_line "^iscsi: listening" 120 || test_fail "no iSCSI listener"
expect_line "^irq: IRQ 0 -> GSI [0-9]+ as NMI, edge-triggered"
expect_line "^qedbox: profiler: 1000 Hz, [0-9]+ buckets of 16 bytes over the code${CR}?$"
expect_line "^qedbox: profiler: served on TCP port 3270${CR}?$"

fetch() { python3 "$ROOT/tests/system/profile_fetch.py" 127.0.0.1 "$DUMP_PORT" 60; }
value() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
count() { awk -v k="$1" '$1 == "count" && $2 == k { print $3 }' "$2"; }
# at_least NAME ACTUAL MIN: ACTUAL is a number >= MIN
at_least() {
	[ -n "$2" ] && [ "$2" -ge "$3" ] 2>/dev/null || test_fail "$1: expected at least $3, got '${2}'"
}

fetch >"$D/boot.dump" || test_fail "first dump: $(cat "$D/boot.dump")"

io_out=$(qemu-io -f raw -c 'write -P 0x5a 0 8M' -c 'read -P 0x5a 0 8M' -c 'flush' \
	"iscsi://127.0.0.1:$PORT/$PREFIX:prof0/0" 2>&1)
printf '%s\n' "$io_out" | grep -Eq "Pattern verification failed|(read|write|flush) failed" &&
	test_fail "qemu-io: $io_out"
fetch >"$D/io.dump" || test_fail "dump after the I/O: $(cat "$D/io.dump")"
fetch >"$D/quiet.dump" || test_fail "dump of a quiet window: $(cat "$D/quiet.dump")"

# ---- the samples of the I/O window
total=$(value total "$D/io.dump") idle=$(value idle "$D/io.dump")
at_least "samples" "$total" 50
at_least "idle samples" "$idle" 1
[ "$(value outside "$D/io.dump")" = 0 ] || test_fail "samples outside the code: $(value outside "$D/io.dump")"
[ "$(value hz "$D/io.dump")" = 1000 ] || test_fail "hz: $(value hz "$D/io.dump")"
busy_lines=$(grep -c '^sample 0x' "$D/io.dump")
at_least "code buckets with samples" "$busy_lines" 3
bucket_sum=$(awk '$1 == "sample" { s += $3 } END { print s + 0 }' "$D/io.dump")
[ "$bucket_sum" -eq $((total - idle)) ] ||
	test_fail "bucket samples ($bucket_sum) differ from total - idle ($total - $idle)"

# ---- symbolised: the top functions are the ELF's functions, the data path among them
report=$(sh "$ROOT/tests/bench/profile_report.sh" -n 10 -l 3 "$ELF" "$D/io.dump" 2>&1) ||
	test_fail "profile_report.sh: $report"
printf '%s\n' "$report" | sed 's/^/# /'
functions=$(printf '%s\n' "$report" | awk '/^top [0-9]+ functions/{ on = 1; getline; next } /^per command/{ on = 0 } on { print $4 }')
hot_lines=$(printf '%s\n' "$report" | awk '/^top [0-9]+ buckets/{ on = 1; next } on && $3 != "??" && $4 ~ /:[0-9]+/ { n++ } END { print n + 0 }')
[ "$hot_lines" -ge 1 ] || test_fail "no hot bucket with a function and a source line"
[ -n "$functions" ] || test_fail "no function in the report"
nm "$ELF" | awk '{ print $NF }' | sort -u >"$D/symbols"
for f in $functions; do
	grep -qx -- "$f" "$D/symbols" || test_fail "top function '$f' is not a symbol of the ELF"
done
printf '%s\n' "$functions" | grep -Eq '^(memcpy|memset|vnet_|virtqueue_|tcp_|ip4_|lwip_|iscsi_|qed_|vblk_|pbuf_|inet_|on_recv|offer)' ||
	test_fail "no data-path function among the top ones: $functions"

# ---- the counters of the I/O window: 8 MiB each way over a few commands
MIB8=8388608
commands=$(count iscsi.commands "$D/io.dump")
at_least "iscsi.commands" "$commands" 2
at_least "iscsi.rx_pdus" "$(count iscsi.rx_pdus "$D/io.dump")" "$commands"
at_least "iscsi.tx_pdus" "$(count iscsi.tx_pdus "$D/io.dump")" "$commands"
at_least "iscsi.rx_payload_bytes" "$(count iscsi.rx_payload_bytes "$D/io.dump")" $MIB8
at_least "iscsi.tx_payload_bytes" "$(count iscsi.tx_payload_bytes "$D/io.dump")" $MIB8
at_least "iscsi.rx_copied_bytes" "$(count iscsi.rx_copied_bytes "$D/io.dump")" 1
at_least "tcp.segments_in" "$(count tcp.segments_in "$D/io.dump")" $((MIB8 / 65536))
at_least "tcp.segments_out" "$(count tcp.segments_out "$D/io.dump")" $((MIB8 / 65536))
at_least "net.rx_frames" "$(count net.rx_frames "$D/io.dump")" $((MIB8 / 65536))
at_least "net.tx_kicks" "$(count net.tx_kicks "$D/io.dump")" 1
at_least "blk.requests" "$(count blk.requests "$D/io.dump")" 2
at_least "blk.flushes" "$(count blk.flushes "$D/io.dump")" 1
at_least "blk.kicks" "$(count blk.kicks "$D/io.dump")" 1
at_least "cpu.interrupts" "$(count cpu.interrupts "$D/io.dump")" 1
at_least "cpu.halts" "$(count cpu.halts "$D/io.dump")" 1

# ---- the window after it saw no I/O: the counters started again from zero
[ "$(count iscsi.commands "$D/quiet.dump")" = 0 ] ||
	test_fail "the quiet window counts $(count iscsi.commands "$D/quiet.dump") commands"
[ "$(count blk.requests "$D/quiet.dump")" = 0 ] ||
	test_fail "the quiet window counts $(count blk.requests "$D/quiet.dump") disk requests"
quiet_total=$(value total "$D/quiet.dump")
[ -n "$quiet_total" ] && [ "$quiet_total" -lt "$total" ] ||
	test_fail "the quiet window has $quiet_total samples, the I/O window $total"

kill "$QEMU_PID"
qemu_wait_exit 10
test_finish
