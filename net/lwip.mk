# lwIP in the firmware: the stack's own sources are compiled straight from the fetched
# Debian source in $(LWIP) (never copied into the tree) into $(FW)/deps/lwip/, with
# lwIP's own relaxed warnings; our port (lwipopts.h, arch/cc.h, sys_arch.c) lives in
# net/lwip_port/. Included from net/build.mk.
#
# Modules: core, IPv4 (with DHCP), Ethernet/ARP, and lwiperf (an iperf2 server, started
# only when the command line says iperf). The lists come from lwIP's Filelists.mk.

LWIPDIR := $(LWIP)/src
-include $(LWIPDIR)/Filelists.mk

LWIP_SRCS := $(COREFILES) $(CORE4FILES) $(LWIPDIR)/netif/ethernet.c $(LWIPERFFILES)
LWIP_FW_OBJS := $(patsubst $(LWIP)/%.c,$(FW)/deps/lwip/%.c.o,$(LWIP_SRCS))

# Every file that includes lwIP headers sees the same configuration, LWIP_INCLUDES
# (the top Makefile: net/lwip_port/config/ holds lwipopts.h and arch/cc.h). Not
# -isystem: the dependency files would then miss lwipopts.h.

# lwIP itself is third-party code: same target flags, its own warning level.
LWIP_CFLAGS := $(filter-out -Werror -Wshadow -Wcast-qual -Wextra,$(FW_CFLAGS)) \
	-Wno-address -Wno-unused-but-set-variable $(LWIP_INCLUDES)

$(FW)/deps/lwip/%.c.o: $(LWIP)/%.c | deps
	$(call quiet,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(FW_CC) $(LWIP_CFLAGS) -c $< -o $@

FW_SRCS += net/lwip_port/sys_arch.c net/net_init.c net/tcp_echo.c net/text_service.c \
	net/http_server.c

# The firmware links lwIP as an archive inside its library group (boot/build.mk).
$(FW)/deps/liblwip.a: $(LWIP_FW_OBJS)
	$(call quiet,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^
FW_LIBS += $(FW)/deps/liblwip.a
$(BUILD)/qedbox.elf: $(FW)/deps/liblwip.a

# `make lwip` builds the stack alone (handy when changing lwipopts.h).
lwip: $(FW)/deps/liblwip.a $(FW)/net/lwip_port/sys_arch.c.o
.PHONY: lwip

# Command-line parsing of the networking keys and the checksum are portable and tested
# on the host.
PORTABLE_SRCS += net/net_config.c net/lwip_port/chksum.c
HOST_TESTS += $(HOST)/tests/net/test_net_config $(HOST)/tests/net/test_chksum

# The same stack built for the host, on a loopback interface (QEDBOX_LWIP_HOST in
# lwipopts.h): host tests of lwIP users (the echo service; the iSCSI binding) run the
# firmware's TCP configuration without a VM. tests/unit/net/lwip_host.h is the harness.
LWIP_HOST_OBJS := $(patsubst $(LWIP)/%.c,$(HOST)/deps/lwip/%.c.o,$(LWIP_SRCS))
LWIP_HOST_CFLAGS := -std=gnu11 -g -O2 -MMD -MP -Wall -Wno-address -DQEDBOX_LWIP_HOST \
	$(HOST_SAN_FLAGS) $(LWIP_INCLUDES)

$(HOST)/deps/lwip/%.c.o: $(LWIP)/%.c | deps
	$(call quiet,HOSTCC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(LWIP_HOST_CFLAGS) -c $< -o $@

$(HOST)/liblwip.a: $(LWIP_HOST_OBJS)
	$(call quiet,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

LWIP_HOST_TEST_SRCS := tests/unit/net/lwip_host.c net/tcp_echo.c
$(HOST)/tests/net/test_tcp_echo: tests/unit/net/test_tcp_echo.c $(LWIP_HOST_TEST_SRCS) \
		$(HOST)/liblwip.a $(HOST)/libqedbox.a
	$(call quiet,HOSTLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -DQEDBOX_LWIP_HOST $(LWIP_INCLUDES) -Itests $(NET_INCLUDES) \
		-o $@ $< $(LWIP_HOST_TEST_SRCS) $(HOST)/liblwip.a $(HOST)/libqedbox.a
HOST_TESTS += $(HOST)/tests/net/test_tcp_echo

# The read-only text service (the profiler's dump), on the host lwIP.
TEXT_SERVICE_TEST_SRCS := tests/unit/net/lwip_host.c net/text_service.c
$(HOST)/tests/net/test_text_service: tests/unit/net/test_text_service.c \
		$(TEXT_SERVICE_TEST_SRCS) $(HOST)/liblwip.a $(HOST)/libqedbox.a
	$(call quiet,HOSTLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -DQEDBOX_LWIP_HOST $(LWIP_INCLUDES) -Itests $(NET_INCLUDES) \
		-o $@ $< $(TEXT_SERVICE_TEST_SRCS) $(HOST)/liblwip.a $(HOST)/libqedbox.a
HOST_TESTS += $(HOST)/tests/net/test_text_service
SYSTEM_TESTS += tests/system/test_net.sh

# The web server's lwIP binding, on the host lwIP with the task runtime.
HTTP_SERVER_TEST_SRCS := tests/unit/net/lwip_host.c net/http_server.c
$(HOST)/tests/net/test_http_server: tests/unit/net/test_http_server.c \
		$(HTTP_SERVER_TEST_SRCS) $(HOST)/liblwip.a $(HOST)/libqedbox.a
	$(call quiet,HOSTLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -DQEDBOX_LWIP_HOST $(LWIP_INCLUDES) -Itests $(NET_INCLUDES) \
		-o $@ $< $(HTTP_SERVER_TEST_SRCS) $(HOST)/liblwip.a $(HOST)/libqedbox.a
HOST_TESTS += $(HOST)/tests/net/test_http_server

# The virtio-net ring engine against a fake device, on the host lwIP.
VNET_HOST_TEST_SRCS := tests/unit/net/lwip_host.c drivers/virtio_net_io.c
$(HOST)/tests/drivers/test_virtio_net_io: tests/unit/drivers/test_virtio_net_io.c \
		$(VNET_HOST_TEST_SRCS) drivers/virtio_net_priv.h $(HOST)/liblwip.a $(HOST)/libqedbox.a
	$(call quiet,HOSTLD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -DQEDBOX_LWIP_HOST $(LWIP_INCLUDES) -Itests -Itests/unit/net \
		-Idrivers $(BOOT_INCLUDES) -o $@ $< $(VNET_HOST_TEST_SRCS) $(HOST)/liblwip.a \
		$(HOST)/libqedbox.a
HOST_TESTS += $(HOST)/tests/drivers/test_virtio_net_io
