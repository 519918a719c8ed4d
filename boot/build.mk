# boot/: from the boot loader to main(): entry, long mode, page tables, interrupts,
# clock, console, command line, newlib glue, the event loop. Also the firmware link,
# the bootable ISO and `make run`.

# start.S first: the link puts its object first (STYLE.md).
FW_SRCS += boot/start.S boot/vectors.S boot/setup.c boot/console.c boot/cpu.c \
	boot/paging.c boot/syscalls.c boot/clock.c boot/rtc.c boot/apic.c \
	boot/acpi.c boot/ioapic.c boot/power.c boot/config_keys.c boot/loop.c boot/looptest.c boot/hooks.c boot/main.c
# The CPU's entropy instructions (RDSEED, RDRAND).
FW_SRCS += boot/entropy.c
# config.c, bootinfo.c and serve_keys.c also build on the host, for their unit tests.
PORTABLE_SRCS += boot/config.c boot/bootinfo.c boot/serve_keys.c
HOST_TESTS += $(HOST)/tests/boot/test_config $(HOST)/tests/boot/test_bootinfo \
	$(HOST)/tests/boot/test_serve_keys
SYSTEM_TESTS += tests/system/test_boot.sh

# Firmware code anywhere includes "platform.h" (the boot layer's API for drivers).
# Host code never sees boot/, except the tests of its portable parts.
FW_CFLAGS += -Iboot
$(HOST)/tests/boot/%: HOST_CFLAGS += -Iboot

# The volumes wiring meets every layer: disks, the QED core, SCSI and the iSCSI target.
FW_SRCS += boot/volumes.c
$(FW)/boot/volumes.c.o: FW_CFLAGS_EXTRA += -Idrivers -Inet -Iqed

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
RUN_ACCEL = $(if $(shell [ -w /dev/kvm ] && echo y),-accel kvm -cpu host$(comma)-arch-capabilities,-accel tcg)
comma := ,

$(BUILD)/scratch.img:
	$(call quiet,QEMU-IMG,$@)
	$(Q)qemu-img create -q -f raw $@ 64M

run: $(BUILD)/qedbox.elf $(BUILD)/scratch.img
	timeout --foreground $(RUN_TIMEOUT) qemu-system-x86_64 -M $(RUN_MACHINE) -m $(RUN_MEM) \
		$(RUN_ACCEL) -kernel $(BUILD)/qedbox.elf -append "$(RUN_CMDLINE)" \
		-display none -serial mon:stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-drive if=none,id=scratch,file=$(BUILD)/scratch.img,format=raw \
		-device virtio-blk-pci,drive=scratch,serial=scratch0 \
		-nic user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:3260-:3260
