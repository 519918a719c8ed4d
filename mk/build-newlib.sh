#!/bin/sh
# Builds newlib for a bare x86_64 target with the host gcc into $1 (a prefix under
# build/deps). newlib's configure wants x86_64-elf-* tools: we point such names at the host's.
set -eu
prefix=$(realpath -m "$1")
work=$prefix.work
rm -rf "$work" && mkdir -p "$work/bin" "$work/build"
for t in gcc cc ar as ld ranlib nm objcopy strip readelf; do
	h=$t; [ $t = cc ] && h=gcc
	ln -s "$(command -v $h)" "$work/bin/x86_64-elf-$t"
done
tar -C "$work" -xf /usr/src/newlib/newlib-3.3.0.tar.xz
cd "$work/build"
PATH=$work/bin:$PATH ../newlib-salsa/configure --target=x86_64-elf --prefix="$prefix" \
	--disable-multilib --disable-newlib-supplied-syscalls \
	CFLAGS_FOR_TARGET="-O2 -g -ffreestanding -mno-red-zone -fno-stack-protector -fno-pic" >configure.log 2>&1
PATH=$work/bin:$PATH make -j"$(nproc)" >build.log 2>&1
PATH=$work/bin:$PATH make install >install.log 2>&1
rm -rf "$work"
