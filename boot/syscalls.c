/*
 * The system calls newlib expects, for a machine with one console and no files.
 *
 * The heap (sbrk) is the largest free stretch of RAM in the memory map once the image,
 * the first MiB and the boot loader's structures are taken out. fds 0-2 are the serial
 * console; there are no files. exit() powers off with its status (platform_poweroff).
 * This newlib calls the plain names (write, sbrk, ...); the _names are aliases.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "boot_priv.h"
#include "platform.h"

#define LOW_MEMORY_END (1ull << 20) /* BIOS data, option ROMs: never heap */

static uint8_t *heap_start, *heap_end, *heap_break;
static uint8_t *heap_top; /* the highest heap_break so far: malloc may trim the arena */

/* The largest piece of [base, base+len) that avoids [busy, busy+busy_len). */
static void carve(uint64_t *base, uint64_t *len, uint64_t busy, uint64_t busy_len)
{
	uint64_t end = *base + *len, busy_end = busy + busy_len;
	if (busy_end <= *base || busy >= end)
		return;
	uint64_t below = busy > *base ? busy - *base : 0;
	uint64_t above = busy_end < end ? end - busy_end : 0;
	if (below >= above) {
		*len = below;
	} else {
		*base = busy_end;
		*len = above;
	}
}

void heap_init(const struct boot_info *bi)
{
	uint64_t best_base = 0, best_len = 0;
	for (unsigned i = 0; i < bi->map_count; i++) {
		if (bi->map[i].type != MEM_RAM)
			continue;
		uint64_t base = bi->map[i].base, len = bi->map[i].len;
		carve(&base, &len, 0, LOW_MEMORY_END);
		carve(&base, &len, (uint64_t)__image_start,
		      (uint64_t)(__image_end - __image_start));
		for (unsigned b = 0; b < bi->busy_count; b++)
			carve(&base, &len, bi->busy[b].base, bi->busy[b].len);
		if (len > best_len)
			best_base = base, best_len = len;
	}
	uint64_t aligned = (best_base + 4095) & ~4095ull;
	best_len = best_len > aligned - best_base ? best_len - (aligned - best_base) : 0;
	heap_start = heap_break = heap_top = (uint8_t *)aligned;
	heap_end = heap_start + best_len;
	paging_heap_ready();
}

void heap_region(uint64_t *base, uint64_t *len)
{
	*base = (uint64_t)heap_start;
	*len = (uint64_t)(heap_end - heap_start);
}

void *sbrk(ptrdiff_t incr)
{
	if ((incr > 0 && incr > heap_end - heap_break) ||
	    (incr < 0 && -incr > heap_break - heap_start)) {
		errno = ENOMEM;
		return (void *)-1;
	}
	uint8_t *old = heap_break;
	heap_break += incr;
	if (heap_break > heap_top)
		heap_top = heap_break;
	return old;
}

void heap_usage(uint64_t *in_use, uint64_t *high_water, uint64_t *size)
{
	struct mallinfo mi = mallinfo();
	*in_use = mi.uordblks;
	*high_water = (uint64_t)(heap_top - heap_start);
	*size = (uint64_t)(heap_end - heap_start);
}

int write(int fd, const void *buf, size_t len)
{
	if (fd != STDOUT_FILENO && fd != STDERR_FILENO) {
		errno = EBADF;
		return -1;
	}
	console_write(buf, len);
	return (int)len;
}

int read(int fd, void *buf, size_t len)
{
	(void)buf, (void)len;
	errno = fd == STDIN_FILENO ? EAGAIN : EBADF; /* the console is output only */
	return -1;
}

int close(int fd)
{
	(void)fd;
	errno = EBADF;
	return -1;
}

int fstat(int fd, struct stat *st)
{
	if (fd < 0 || fd > STDERR_FILENO) {
		errno = EBADF;
		return -1;
	}
	*st = (struct stat){.st_mode = S_IFCHR};
	return 0;
}

int isatty(int fd)
{
	return fd >= 0 && fd <= STDERR_FILENO;
}

off_t lseek(int fd, off_t off, int whence)
{
	(void)fd, (void)off, (void)whence;
	errno = ESPIPE;
	return -1;
}

int getpid(void)
{
	return 1;
}

int kill(int pid, int sig)
{
	(void)pid, (void)sig;
	errno = EINVAL;
	return -1;
}

int gettimeofday(struct timeval *tv, void *tz)
{
	(void)tz;
	uint64_t ns = clock_wall_epoch_ns() + clock_ns();
	tv->tv_sec = (time_t)(ns / 1000000000);
	tv->tv_usec = (suseconds_t)(ns % 1000000000 / 1000);
	return 0;
}

void _exit(int status)
{
	platform_poweroff(status);
}

/* newlib's exit() runs these around the (absent) constructors and destructors. */
void _init(void)
{
}
void _fini(void)
{
}

#define ALIAS(name) __typeof__(name) _##name __attribute__((alias(#name)))
ALIAS(sbrk);
ALIAS(write);
ALIAS(read);
ALIAS(close);
ALIAS(fstat);
ALIAS(isatty);
ALIAS(lseek);
ALIAS(getpid);
ALIAS(kill);
ALIAS(gettimeofday);
