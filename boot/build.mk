# boot/: the platform, from the boot loader to main(): entry, long mode, page tables,
# interrupts, clock, console, newlib glue, the event loop, power-off, and the platform's
# own tests. Everything above it includes boot/platform.h; boot.h is its private header.
# Also the firmware link, the bootable ISO and `make run`.

# start.S first: the link puts its object first, so the PVH note and entry lead the image.
FW_SRCS += boot/start.S boot/vectors.S boot/setup.c boot/console.c boot/cpu.c \
	boot/paging.c boot/syscalls.c boot/clock.c boot/rtc.c boot/apic.c \
	boot/acpi.c boot/ioapic.c boot/power.c boot/loop.c boot/report.c \
	boot/platform_tests.c boot/looptest.c boot/entropy.c boot/profile.c
# bootinfo.c and the profiler's histogram also build on the host, for their unit tests.
PORTABLE_SRCS += boot/bootinfo.c boot/profile_hist.c
HOST_TESTS += $(HOST)/tests/boot/test_bootinfo $(HOST)/tests/boot/test_profile_hist
SYSTEM_TESTS += tests/system/test_boot.sh

$(FW)/boot/%: private LAYER_INCLUDES = $(BOOT_INCLUDES)
$(HOST)/boot/%: private LAYER_INCLUDES = $(BOOT_INCLUDES)
$(HOST)/tests/boot/%: private TEST_INCLUDES = $(BOOT_INCLUDES)

# ---- the firmware image ------------------------------------------------------------------
FW_LIBS := $(NEWLIB)/lib/libc.a $(shell $(FW_CC) -print-libgcc-file-name)

firmware: $(BUILD)/qedbox.elf

# FW_OBJS is complete only once every build.mk is read: expand it at the second pass.
.SECONDEXPANSION:
$(BUILD)/qedbox.elf: $$(FW_OBJS) linker.ld
	$(call quiet,LD,$@)
	$(Q)$(FW_CC) $(FW_LDFLAGS) -Wl,-z,noexecstack -Wl,--build-id=none -o $@ $(FW_OBJS) -Wl,--start-group $(FW_LIBS) -Wl,--end-group

# ---- bootable ISO (GRUB, multiboot2) -----------------------------------------------------
# ISO_CMDLINE: the command line baked into grub.cfg.
ISO_CMDLINE ?=
iso: $(BUILD)/qedbox.iso

$(BUILD)/qedbox.iso: $(BUILD)/qedbox.elf mk/mkiso.sh
	$(call quiet,ISO,$@)
	$(Q)sh mk/mkiso.sh $< $@ "$(ISO_CMDLINE)"

# ---- make run ---------------------------------------------------------------------------------
# An interactive boot: console on the terminal (Ctrl-A X quits QEMU), a 64 MiB scratch disk
# (serial scratch0, formatted as QED on the first boot and served from then on) and iSCSI
# forwarded to 127.0.0.1:3260, where initiators on the host find the target
# iqn.2026-11.org.qedbox:scratch0. RUN_CMDLINE, RUN_MACHINE, RUN_MEM and RUN_TIMEOUT
# (seconds, 0 = none) adjust it.
RUN_CMDLINE ?= format=scratch0 portal=127.0.0.1:3260
RUN_MACHINE ?= q35
RUN_MEM ?= 512M
RUN_TIMEOUT ?= 0
RUN_ACCEL = $(shell sh mk/qemu-accel.sh $(BUILD)/qedbox.elf)

$(BUILD)/scratch.img:
	$(call quiet,QEMU-IMG,$@)
	$(Q)qemu-img create -q -f raw $@ 64M

run: $(BUILD)/qedbox.elf $(BUILD)/scratch.img
	timeout --foreground $(RUN_TIMEOUT) qemu-system-x86_64 -M $(RUN_MACHINE) -m $(RUN_MEM) \
		$(RUN_ACCEL) -kernel $(BUILD)/qedbox.elf -append "$(RUN_CMDLINE)" \
		-display none -serial mon:stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-drive if=none,id=scratch,file=$(BUILD)/scratch.img,format=raw \
		-device virtio-blk-pci,drive=scratch,serial=scratch0 -device virtio-rng-pci \
		-nic user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:3260-:3260
