/* Seeding the random generator at start-up: see entropy.h. */
#include "entropy.h"

#include <stdint.h>
#include <stdio.h>

#include "platform.h"
#include "random.h"
#include "virtio_rng.h"

#define SEED_BYTES	    64                   /* 512 bits from each source */
#define VIRTIO_RNG_WAIT_NS (500ull * 1000 * 1000) /* a host that gives nothing by then won't */

bool entropy_seed(void)
{
	uint8_t buf[SEED_BYTES];
	uint64_t now = clock_ns();
	random_mix(&now, sizeof(now), 0); /* differs per boot, but guessable: no credit */

	size_t from_cpu = cpu_entropy(buf, sizeof(buf));
	random_mix(buf, from_cpu, 8 * (unsigned)from_cpu);
	size_t from_rng = 0;
	if (virtio_rng_probe_all() > 0)
		from_rng = virtio_rng_read(buf, sizeof(buf), VIRTIO_RNG_WAIT_NS);
	random_mix(buf, from_rng, 8 * (unsigned)from_rng);

	bool ready = random_ready();
	/* newlib's printf has no %zu */
	printf("qedbox: entropy: cpu %s (%lu bytes), virtio-rng %lu bytes: %s\n",
	       cpu_entropy_source(), (unsigned long)from_cpu, (unsigned long)from_rng,
	       ready ? "seeded" : "NOT SEEDED");
	if (!ready)
		printf("qedbox: WARNING: no entropy source (add -device virtio-rng-pci): CHAP "
		       "logins are refused\n");
	return ready;
}
