#!/bin/sh
# The network path end to end: virtio-net + lwIP under QEMU user networking (restrict=on,
# forwarding only on 127.0.0.1), with the firmware's TCP echo service (tcp_echo=7).
#   dhcp:   on q35 and on pc, the -nic shorthand (its virtio-net has no MSI-X: INTx
#           through the I/O APIC), address from QEMU's DHCP, a few MiB echoed and checked
#           byte for byte
#   static: -device virtio-net-pci (MSI-X), ip=/gw= keys, more MiB echoed, then MiB
#           sent one way to lwIP's iperf2 server (iperf key); the rates are the figures
#           "# tcp throughput (...)"
#   badip:  a malformed ip= is reported and no address is bound
#   nodhcp: a link with no DHCP server (a QEMU hub with nothing else on it) says so
# After the transfers, each VM's idle CPU is measured (figure "# idle CPU ..."): MSI-X
# or INTx, it halts between lwIP's timers (no polling).
. "$(dirname "$0")/lib.sh"
CR=$(printf "\r") # console lines end in CR LF

# echo_check NAME MIB: the echo client against the current VM; prints its figure line.
echo_check() {
	out=$(python3 "$ROOT/tests/system/tcp_client.py" 127.0.0.1 "$PORT" "$2" 120 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		test_fail "$1: echo of $2 MiB: $out"
		tail -n 20 "$QEMU_LOG" | sed 's/^/    | /'
	else
		printf '%s\n' "$out" | sed "s/^# tcp throughput:/# tcp throughput ($1, echo):/"
	fi
}

# idle_cpu NAME LIMIT: once the link is quiet, QEMU's CPU time over 3 s must stay below
# LIMIT (in 1/1000 of a core). A virtio-net polled every 1 ms cost 4-8% of a core under
# TCG; one woken by its interrupt (MSI-X or INTx) 0.1-0.3%.
idle_cpu() {
	sleep 1.5
	if permille=$(qemu_cpu_permille 3); then
		echo "# idle CPU ($1): $((permille / 10)).$((permille % 10))% of a core"
		[ "$permille" -lt "$2" ] ||
			test_fail "$1: QEMU used $((permille / 10)).$((permille % 10))% of a core while idle (limit $(($2 / 10)).$(($2 % 10))%)"
	else
		test_fail "$1: could not read QEMU's CPU time"
	fi
}

for machine in q35 pc; do
	PORT=$(free_port)
	qemu_start "dhcp-$machine" 180 -M "$machine" -m 256M -kernel "$ELF" \
		-append "exit=debug tcp_echo=7" \
		-nic "user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-:7"
	if qemu_wait_line "^net: 10\.0\.2\.15:3260${CR}?$" 60; then
		echo_check "dhcp-$machine" 4
		idle_cpu "dhcp-$machine, -nic, INTx" 20
	else
		test_fail "dhcp-$machine: no address bound"
	fi
	qemu_wait_exit 1
	expect_line "^irq: IRQ [0-9]+ -> GSI [0-9]+, level-triggered"
	expect_line "^virtio-net: mac 52:54:00:12:34:56, rx [0-9]+ tx [0-9]+ descriptors(, indirect)?, event index(, tx checksum offload)?, INTx${CR}?$"
	expect_line "^net: tcp echo on port 7${CR}?$"
	if grep -q "polled" "$QEMU_LOG"; then
		test_fail "dhcp-$machine: the console says the device is polled"
	fi
done

PORT=$(free_port) IPERF_PORT=$(free_port)
qemu_start static 180 -M pc -m 256M -kernel "$ELF" \
	-append "exit=debug tcp_echo=7 iperf ip=10.0.2.15/24 gw=10.0.2.2" \
	-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$PORT-:7,hostfwd=tcp:127.0.0.1:$IPERF_PORT-:5001" \
	-device virtio-net-pci,netdev=n0,mac=52:54:00:aa:bb:cc
if qemu_wait_line "^net: 10\.0\.2\.15:3260${CR}?$" 60; then
	echo_check static 32
	out=$(python3 "$ROOT/tests/system/tcp_client.py" --iperf 127.0.0.1 "$IPERF_PORT" 32 120 2>&1) ||
		test_fail "static: one-way transfer to the iperf server: $out"
	printf '%s\n' "$out" | sed "s/^# tcp throughput:/# tcp throughput (static, one way in):/"
	qemu_wait_line "^net: iperf " 10
	expect_line "^net: iperf done: [0-9]{8} bytes"
	idle_cpu "static, MSI-X" 100
else
	test_fail "static: no address bound"
fi
qemu_wait_exit 1
expect_line "^virtio-net: mac 52:54:00:aa:bb:cc, rx [0-9]+ tx [0-9]+ descriptors(, indirect)?, event index(, tx checksum offload)?${CR}?$"
if grep -q "unknown key" "$QEMU_LOG"; then
	test_fail "static: a networking key was reported unknown"
fi

qemu_run badip 60 -M q35 -m 256M -kernel "$ELF" -append "exit=debug poweroff=ready ip=10.0.2.300" \
	-nic user,model=virtio-net-pci,restrict=on
expect_status 1
expect_line "^qedbox: command line: ip=10\.0\.2\.300: expected a\.b\.c\.d or a\.b\.c\.d/len \(networking off\)${CR}?$"
if grep -q "^net: [0-9]" "$QEMU_LOG"; then
	test_fail "badip: an address was bound despite the malformed key"
fi

qemu_start nodhcp 60 -M q35 -m 256M -kernel "$ELF" -append "exit=debug" \
	-netdev hubport,id=n0,hubid=0 -device virtio-net-pci,netdev=n0
qemu_wait_line "^net: no DHCP answer yet" 45 || test_fail "nodhcp: no console line about DHCP"
qemu_wait_exit 1
if grep -q "^net: [0-9]" "$QEMU_LOG"; then
	test_fail "nodhcp: an address was bound without a DHCP server"
fi

test_finish
