#!/bin/sh
# QED interoperability between qedbox's core (through build/host/qedtool) and QEMU's
# driver (qemu-img, qemu-io), both ways, over cluster sizes, table sizes and backing files:
#  - images made and written by qemu read back through qedtool exactly as
#    `qemu-img convert -O raw` gives them, check clean with qedtool check, and qedtool
#    info/map agree with qemu-img info/map;
#  - images made and written by qedtool (unaligned writes included) pass `qemu-img check`
#    (exit 3 counts as clean past cluster_size-1 clusters, QEMU's leak-count bug, see
#    qed/README.md) and convert to the expected bytes; then qemu writes into them and
#    qedtool reads and checks the result.
# Prints the matrix as "# " lines. Skips (77) without qemu-img and qemu-io.
set -u
QEDTOOL=${QEDTOOL:-build/host/qedtool}
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || {
	echo "qemu-img/qemu-io not installed"; exit 77; }
[ -x "$QEDTOOL" ] || { echo "$QEDTOOL not built"; exit 1; }
QEDTOOL=$(cd "$(dirname "$QEDTOOL")" && pwd)/$(basename "$QEDTOOL")
T=$(mktemp -d /tmp/qedbox-interop.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
SIZE=8M

fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# json_field FILE KEY: the value of "KEY": in a flat JSON object (number, bool or string).
json_field() {
	sed -n "s/^ *\"$2\": *\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$1" | head -n 1
}

# Backing files: raw random bytes and a QED image with some data, made once.
head -c 8388608 /dev/urandom > "$T/back.raw"
qemu-img create -q -f qed "$T/back-qemu.qed" $SIZE
qemu-io -c 'write -P 0x5a 0 512K' -c 'write -P 0x6b 2M 64K' "$T/back-qemu.qed" >/dev/null

backing_opts() { # $1: none|raw|qed -> qemu-img create options
	case $1 in
	raw) echo "-b back.raw -F raw" ;;
	qed) echo "-b back-qemu.qed -F qed" ;;
	*) echo "" ;;
	esac
}

# ---- qemu makes, qedtool reads ------------------------------------------------------
qemu_to_qedbox() { # cluster table backing
	c=$1 t=$2 b=$3 img="$T/q-$c-$t-$b.qed"
	res_read=ok res_check=ok res_info=ok res_map=ok
	# shellcheck disable=SC2046
	qemu-img create -q -f qed -o cluster_size=$c,table_size=$t $(backing_opts $b) "$img" $SIZE ||
		{ fail "qemu-img create $img"; return; }
	qemu-io -c 'write -P 0xab 0 1M' -c 'write -P 0xcd 3M 64K' -c 'write -P 0x11 4608 3072' \
		-c 'write -z 6M 1M' -c 'write -P 0xee 7340544 1024' "$img" >/dev/null ||
		{ fail "qemu-io write $img"; return; }
	qemu-img convert -O raw "$img" "$T/expect.raw"
	(cd / && "$QEDTOOL" read "$img" 0 $SIZE) > "$T/got.raw" 2>"$T/err" ||
		{ res_read="FAIL($(head -c 80 "$T/err"))"; fails=$((fails + 1)); }
	[ "$res_read" = ok ] && ! cmp -s "$T/expect.raw" "$T/got.raw" &&
		{ res_read=DIFFERS; fail "read $img: $(cmp "$T/expect.raw" "$T/got.raw")"; }
	"$QEDTOOL" check "$img" >"$T/check.out" 2>&1 || { rc=$?; res_check="exit$rc"; fail "qedtool check $img exit $rc: $(cat "$T/check.out")"; }
	qemu-img info --output=json "$img" > "$T/qi.json"
	"$QEDTOOL" info --json "$img" > "$T/ti.json" 2>"$T/err" || res_info=FAIL
	for k in virtual-size cluster-size backing-filename backing-filename-format; do
		a=$(json_field "$T/qi.json" $k) b2=$(json_field "$T/ti.json" $k)
		[ "$a" = "$b2" ] || { res_info="$k:$a/$b2"; fail "info $img $k qemu '$a' qedtool '$b2'"; }
	done
	qemu-img map --output=json "$img" > "$T/qm.json"
	"$QEDTOOL" map --json "$img" > "$T/tm.json" 2>"$T/err" || res_map=FAIL
	if ! cmp -s "$T/qm.json" "$T/tm.json"; then
		res_map=DIFFERS
		fail "map $img differs: $(diff "$T/qm.json" "$T/tm.json" | head -n 4)"
	fi
	echo "# qemu->qedbox cluster=$c table=$t backing=$b: read $res_read, check $res_check, info $res_info, map $res_map"
}

# ---- qedtool makes, qemu reads ------------------------------------------------------
# put: the same bytes written through qedtool and, with dd, into the expected raw file.
put() { # img expect offset length octal-byte
	head -c "$4" /dev/zero | tr '\0' "\\$5" > "$T/piece"
	dd if="$T/piece" of="$2" bs=4096 seek="$3" oflag=seek_bytes conv=notrunc status=none
	(cd / && "$QEDTOOL" write "$1" "$3") < "$T/piece" 2>"$T/err" ||
		{ fail "qedtool write $1 $3 $4: $(cat "$T/err")"; return 1; }
}

qemu_img_check_ok() { # img clusters-in-use cluster-size
	qemu-img check "$1" >"$T/qc.out" 2>&1
	rc=$?
	[ $rc -eq 0 ] && return 0
	[ $rc -eq 3 ] && [ "$2" -gt $(($3 - 1)) ] && return 0
	return $rc
}

qedbox_to_qemu() { # cluster table backing
	c=$1 t=$2 b=$3 img="$T/t-$c-$t-$b.qed" exp="$T/expect-t.raw"
	res_check=ok res_convert=ok res_back=ok
	case $b in
	raw) bo="-b back.raw -F raw"; cp "$T/back.raw" "$exp" ;;
	qed) bo="-b back-qemu.qed -F qed"; qemu-img convert -O raw "$T/back-qemu.qed" "$exp" ;;
	*) bo=""; head -c 8388608 /dev/zero > "$exp" ;;
	esac
	# shellcheck disable=SC2086
	"$QEDTOOL" create $bo -c $c -t $t "$img" $SIZE 2>"$T/err" ||
		{ fail "qedtool create $img: $(cat "$T/err")"; echo "# qedbox->qemu cluster=$c table=$t backing=$b: create FAIL"; return; }
	put "$img" "$exp" 0 1048576 253 &&          # 0xab
	put "$img" "$exp" 3145728 65536 315 &&      # 0xcd
	put "$img" "$exp" 5000 3000 021 &&          # unaligned, 0x11
	put "$img" "$exp" 7340033 1023 356 ||       # unaligned tail of a cluster, 0xee
		res_convert=WRITE-FAILED
	case $c in *K) cbytes=$((${c%K} * 1024)) ;; *M) cbytes=$((${c%M} * 1048576)) ;; esac
	clusters=$(( (1048576 + 65536 + 16384) / cbytes + 3 ))
	qemu_img_check_ok "$img" $clusters $cbytes ||
		{ res_check="exit$?"; fail "qemu-img check $img: $(cat "$T/qc.out")"; }
	qemu-img convert -O raw "$img" "$T/conv.raw" 2>"$T/err" || res_convert="FAIL"
	[ "$res_convert" = ok ] && ! cmp -s "$exp" "$T/conv.raw" &&
		{ res_convert=DIFFERS; fail "convert $img: $(cmp "$exp" "$T/conv.raw")"; }
	# QEMU writes into the image (dropping qedbox's durable end); qedtool still reads it.
	qemu-io -c 'write -P 0x77 2M 128K' "$img" >/dev/null 2>&1 || res_back="qemu-io-FAIL"
	head -c 131072 /dev/zero | tr '\0' '\167' | dd of="$exp" bs=4096 seek=2097152 oflag=seek_bytes conv=notrunc status=none
	(cd / && "$QEDTOOL" read "$img" 0 $SIZE) > "$T/got.raw" 2>"$T/err" || res_back=READ-FAIL
	[ "$res_back" = ok ] && ! cmp -s "$exp" "$T/got.raw" && { res_back=DIFFERS; fail "read back $img after qemu-io: $(cmp "$exp" "$T/got.raw")"; }
	"$QEDTOOL" check "$img" >"$T/check.out" 2>&1 || { res_back="check-exit$?"; fail "qedtool check after qemu-io $img: $(cat "$T/check.out")"; }
	echo "# qedbox->qemu cluster=$c table=$t backing=$b: qemu-img check $res_check, convert $res_convert, qemu write then qedtool read/check $res_back"
}

for c in 4K 64K 1M; do
	for b in none raw qed; do
		qemu_to_qedbox $c 4 $b
		qedbox_to_qemu $c 4 $b
	done
done
for t in 2 16; do
	qemu_to_qedbox 4K $t none
	qedbox_to_qemu 64K $t raw
done

# Many clusters: 20 MiB of 4 KiB clusters, past QEMU's cluster_size-1 leak-count bug.
big="$T/big.qed"
"$QEDTOOL" create -c 4K -t 16 "$big" 32M 2>"$T/err" || fail "create big: $(cat "$T/err")"
head -c 20971520 /dev/urandom > "$T/big-data"
"$QEDTOOL" write "$big" 1M < "$T/big-data" 2>"$T/err" || fail "write big: $(cat "$T/err")"
qemu_img_check_ok "$big" 5120 4096 && bigcheck=ok || { bigcheck="exit$?"; fail "qemu-img check big: $(tail -n 3 "$T/qc.out")"; }
qemu-img convert -O raw "$big" "$T/big.raw"
dd if="$T/big.raw" bs=1M skip=1 count=20 status=none | cmp -s - "$T/big-data" && bigconv=ok || { bigconv=DIFFERS; fail "big convert differs"; }
echo "# qedbox->qemu 20 MiB at 4K clusters (5120 clusters): qemu-img check $bigcheck (exit $(qemu-img check "$big" >/dev/null 2>&1; echo $?)), convert $bigconv"

# A cut-short allocating write on a file, as QEMU leaves it: need-check set and an L2
# entry pointing past the end of the file (QEMU allocates at the file's end, so the
# second write's cluster is the file's last one; cutting it off leaves its entry dangling).
# The file's size is the end (QEMU's rule): both tools call it corruption (exit 2);
# qedtool check -r clears the entry and then both find the image clean.
eof="$T/past-eof.qed"
res_eof=ok
qemu-img create -q -f qed -o cluster_size=4096 "$eof" 4M &&
	qemu-io -c 'write -P 0xab 0 64K' -c 'write -P 0xcd 1M 4K' "$eof" >/dev/null ||
	fail "qemu makes $eof"
eof_size=$(stat -c %s "$eof")
qemu-img map --output=json "$eof" | grep -q "\"start\": 1048576, .*\"offset\": $((eof_size - 4096))}" ||
	fail "$eof: the 4K at 1M is not the file's last cluster: $(qemu-img map --output=json "$eof")"
truncate -s $((eof_size - 4096)) "$eof"
[ "$(od -An -tx1 -j16 -N8 "$eof" | tr -d ' ')" = 0000000000000000 ] ||
	fail "$eof: unexpected feature bits $(od -An -tx1 -j16 -N8 "$eof")"
printf '\002' | dd of="$eof" bs=1 seek=16 conv=notrunc status=none  # QED_F_NEED_CHECK
eof_step() { # what: expected exit of qemu-img check and of qedtool check
	qemu-img check "$eof" >"$T/qc.out" 2>&1; q=$?
	"$QEDTOOL" check "$eof" >"$T/check.out" 2>&1; t=$?
	[ $q -eq "$2" ] && [ $t -eq "$2" ] || {
		res_eof="$1:qemu-img$q/qedtool$t"
		fail "$eof $1: qemu-img check exit $q, qedtool check exit $t, want $2: $(cat "$T/qc.out" "$T/check.out")"; }
}
eof_step before 2
"$QEDTOOL" check -r "$eof" >"$T/check.out" 2>&1 ||
	{ res_eof="repair-exit$?"; fail "qedtool check -r $eof: $(cat "$T/check.out")"; }
eof_step after 0
head -c 65536 /dev/zero | tr '\0' '\253' > "$T/eof-expect.raw"
head -c $((4194304 - 65536)) /dev/zero >> "$T/eof-expect.raw"
qemu-img convert -O raw "$eof" "$T/eof-conv.raw" && cmp -s "$T/eof-expect.raw" "$T/eof-conv.raw" ||
	{ res_eof="${res_eof}, convert differs"; fail "$eof after repair: convert differs"; }
echo "# qemu past-EOF entry with need-check (file size is the end): $res_eof"

echo "# interop failures: $fails"
[ $fails -eq 0 ]
