/*
 * Wall-clock time at boot from the CMOS real-time clock, for gettimeofday(). Read once;
 * afterwards wall time is this plus clock_ns(). The RTC holds UTC under QEMU's default
 * -rtc base=utc.
 */
#include "boot_priv.h"
#include "platform.h"

#define CMOS_INDEX	 0x70
#define CMOS_DATA	 0x71
#define CMOS_NMI_DISABLE 0x80
#define RTC_SECONDS	 0x00
#define RTC_MINUTES	 0x02
#define RTC_HOURS	 0x04
#define RTC_DAY		 0x07
#define RTC_MONTH	 0x08
#define RTC_YEAR	 0x09
#define RTC_STATUS_A	 0x0a
#define RTC_STATUS_B	 0x0b
#define RTC_A_UPDATING	 0x80
#define RTC_B_24HOUR	 0x02
#define RTC_B_BINARY	 0x04
#define RTC_HOUR_PM	 0x80

static uint64_t epoch_ns_at_boot;

static uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, CMOS_NMI_DISABLE | reg);
	return inb(CMOS_DATA);
}

static unsigned from_bcd(uint8_t v, bool binary)
{
	return binary ? v : (v >> 4) * 10u + (v & 0xf);
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_since_epoch(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void rtc_read_boot_time(void)
{
	for (int spin = 0; spin < 1000000 && (cmos_read(RTC_STATUS_A) & RTC_A_UPDATING); spin++)
		;
	uint8_t status_b = cmos_read(RTC_STATUS_B);
	bool binary = status_b & RTC_B_BINARY;
	unsigned sec = from_bcd(cmos_read(RTC_SECONDS), binary);
	unsigned min = from_bcd(cmos_read(RTC_MINUTES), binary);
	uint8_t hour_raw = cmos_read(RTC_HOURS);
	unsigned hour = from_bcd(hour_raw & ~RTC_HOUR_PM, binary);
	if (!(status_b & RTC_B_24HOUR) && (hour_raw & RTC_HOUR_PM))
		hour = (hour % 12) + 12;
	unsigned day = from_bcd(cmos_read(RTC_DAY), binary);
	unsigned month = from_bcd(cmos_read(RTC_MONTH), binary);
	unsigned year = 2000 + from_bcd(cmos_read(RTC_YEAR), binary);
	if (month < 1 || month > 12 || day < 1 || day > 31)
		return; /* no usable RTC: wall time starts at 1970 */
	int64_t secs = days_since_epoch(year, month, day) * 86400 + hour * 3600 + min * 60 + sec;
	epoch_ns_at_boot = (uint64_t)secs * 1000000000ull - clock_ns();
}

uint64_t clock_wall_epoch_ns(void)
{
	static bool read_once;
	if (!read_once) {
		read_once = true;
		rtc_read_boot_time();
	}
	return epoch_ns_at_boot;
}
