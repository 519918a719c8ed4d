/*
 * The console: COM1 (the 16550 UART at 0x3f8), 115200 8N1, polled. Under QEMU it is
 * -serial (stdio, a file, a socket). console_write() turns "\n" into "\r\n" and never
 * allocates, so exception reports and early boot can use it.
 */
#include "boot_priv.h"
#include "platform.h"

#define COM1			  0x3f8
#define UART_DATA		  0
#define UART_IER		  1
#define UART_FCR		  2
#define UART_LCR		  3
#define UART_MCR		  4
#define UART_LSR		  5
#define LCR_DLAB		  0x80
#define LCR_8N1			  0x03
#define LSR_THR_EMPTY		  0x20
#define UART_CLOCK_DIVISOR_115200 1
#define UART_FIFO_SIZE		  16 /* 16550A; LSR_THR_EMPTY means the whole FIFO is empty */

void console_init(void)
{
	outb(COM1 + UART_IER, 0); /* polled: no UART interrupts */
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DATA, UART_CLOCK_DIVISOR_115200);
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, 0xc7); /* FIFOs on and cleared */
	outb(COM1 + UART_MCR, 0x03); /* DTR, RTS */
}

/* Bytes the transmit FIFO can still take: LSR is read only when it may be full, which
 * halves the port accesses (each one a VM exit under KVM). */
static unsigned fifo_room;

static void console_putc(char c)
{
	/* Bounded wait: a UART that never drains must not hang the firmware. */
	for (int spin = 0; fifo_room == 0 && spin < 100000; spin++)
		if (inb(COM1 + UART_LSR) & LSR_THR_EMPTY)
			fifo_room = UART_FIFO_SIZE;
	outb(COM1 + UART_DATA, (uint8_t)c);
	if (fifo_room)
		fifo_room--;
}

void console_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			console_putc('\r');
		console_putc(s[i]);
	}
}

void console_puts(const char *s)
{
	while (*s)
		console_write(s++, 1);
}

void console_hex(const char *label, uint64_t v)
{
	char buf[19] = "0x";
	for (int i = 0; i < 16; i++)
		buf[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 0xf];
	buf[18] = '\0';
	console_puts(" ");
	console_puts(label);
	console_puts("=");
	console_puts(buf);
}
