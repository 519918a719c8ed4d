/*
 * drivers_init(): the drivers' start-up hook, called once by boot's main() before the
 * event loop runs (boot/hooks.h). Scans PCI (printing the device table) and brings up
 * every virtio-blk disk (printing the disk table from a task once the loop runs).
 * Other drivers (virtio-net) are started by their own layer's hook.
 */
#include "hooks.h"
#include "pci.h"
#include "virtio_blk.h"

void drivers_init(void)
{
	pci_scan();
	virtio_blk_probe_all();
}
