#!/bin/sh
# Measures (not part of make test): boot time from QEMU's start to the "qedbox: ready"
# line, median of 5 boots, and the host CPU an idle appliance costs over 10 s (utime +
# stime of the QEMU process from /proc/PID/stat). Prints "# " lines with the figures.
#   sh tests/system/measure_boot.sh [MACHINE]     (default q35)
. "$(dirname "$0")/lib.sh"
machine=${1:-q35}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Polls the console log every 10 ms, so each figure is late by up to 10 ms.
boot_ms() {
	start=$(now_ms)
	qemu_start "boot-$1" 60 -M "$machine" -m 256M -kernel "$ELF" -append "exit=debug poweroff=ready"
	while ! grep -q "^qedbox: ready" "$QEMU_LOG"; do
		kill -0 "$QEMU_PID" 2>/dev/null || { echo "boot $1 ended without ready" >&2; return 1; }
		sleep 0.01
	done
	total=$(($(now_ms) - start))
	firmware=$(sed -n 's/^qedbox: ready (\([0-9]*\) ms since boot)/\1/p' "$QEMU_LOG")
	echo "$total $firmware"
	qemu_wait_exit 30
}

median() { printf '%s\n' "$@" | sort -n | sed -n 3p; }
times="" fw_times=""
for i in 1 2 3 4 5; do
	t=$(boot_ms $i) || exit 1
	times="$times ${t% *}" fw_times="$fw_times ${t#* }"
done
echo "# boot to ready ($machine, ${QEMU_ACCEL#-accel }): median $(median $times) ms of 5 (${times# } ms)"
echo "# of which the firmware (its entry to ready): median $(median $fw_times) ms"

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
qemu_start idle 60 -M "$machine" -m 256M -kernel "$ELF" -append "exit=debug" -pidfile "$TEST_TMP/qemu.pid"
qemu_wait_line "^qedbox: ready" 30 || { echo "idle boot: no ready line"; exit 1; }
pid=$(cat "$TEST_TMP/qemu.pid")
sleep 1
before=$(ticks "$pid")
sleep 10
after=$(ticks "$pid")
hz=$(getconf CLK_TCK)
echo "# idle host CPU: $((after - before)) ticks of 1/$hz s in 10 s" \
	"= $(awk "BEGIN { printf \"%.2f\", ($after - $before) * 100 / ($hz * 10) }")% of a core"
qemu_wait_exit 1

size=$(stat -c %s "$ELF")
loaded=$(size -A "$ELF" | awk '$1 ~ /^\.(multiboot2|note.pvh|text|rodata|data|bss)$/ { s += $2 } END { print s }')
stripped=$(strip -o "$TEST_TMP/stripped.elf" "$ELF" && stat -c %s "$TEST_TMP/stripped.elf")
echo "# image: $size bytes ELF with debug info, $stripped bytes stripped, $loaded bytes in memory"
