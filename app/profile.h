/*
 * The profile of the appliance (the profile and profile_port keys): the platform's
 * sampling profiler (boot/platform.h) plus counters of the data path, served as text on
 * a TCP port (net/text_service.h). Each connection receives one window, from the
 * previous connection (or the start) to now, and starts the next:
 *
 *     # qedbox profile ...              comment lines start with '#'
 *     hz 1000                           the sampling rate
 *     window_ms 5230                    the window's length (by clock_ns(); under TCG
 *                                       total / hz is the better measure)
 *     total 5230                        every sample of the window
 *     idle 2113                         of which in the loop's halt
 *     outside 0                         of which outside the code (none expected)
 *     sample 0x0000000000104a30 57      samples per 16-byte bucket of code, by address
 *     count iscsi.commands 256          counters, the window's increase
 *     end
 *
 * tests/bench/profile_report.sh symbolises it with the ELF's symbols.
 */
#ifndef QEDBOX_PROFILE_H
#define QEDBOX_PROFILE_H

#include <stdint.h>

/* Starts sampling at hz and the dump on port; after network_start(). Reports problems
 * on the console (the appliance then runs without a profile). */
void profile_start(unsigned hz, uint16_t port);

#endif
