/*
 * qedtool: QED images on host files, with the same core the appliance runs.
 *
 *   qedtool create [-b backing] [-F fmt] [-c cluster] [-t table_size] FILE SIZE
 *   qedtool info [--json] FILE
 *   qedtool check [-r] [--json] FILE   exit 0 clean, 2 corruption, 3 leaks only
 *   qedtool map --json FILE            extents, as qemu-img map --output=json
 *   qedtool read FILE OFFSET LEN       raw guest bytes to stdout
 *   qedtool write FILE OFFSET          guest bytes from stdin
 * Sizes and offsets take K, M, G, T suffixes (powers of 1024).
 */
#include "qedtool.h"

#include <string.h>
#include <unistd.h>

static const struct {
	const char *name;
	int (*fn)(struct tool *t, int argc, char **argv);
} commands[] = {
	{ "create", cmd_create }, { "info", cmd_info }, { "check", cmd_check },
	{ "map", cmd_map }, { "read", cmd_read }, { "write", cmd_write },
};

static void usage(void)
{
	fprintf(stderr,
		"usage: qedtool COMMAND ...\n"
		"  create [-b backing] [-F fmt] [-c cluster] [-t table_size] FILE SIZE\n"
		"  info [--json] FILE\n"
		"  check [-r] [--json] FILE   (exit 0 clean, 2 corruption, 3 leaks only)\n"
		"  map --json FILE\n"
		"  read FILE OFFSET LEN       (bytes to stdout)\n"
		"  write FILE OFFSET          (bytes from stdin)\n"
		"sizes take K, M, G, T suffixes\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage();
		return 1;
	}
	struct tool t = { .progress = isatty(2) };
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(&t, argc - 1, argv + 1);
	fprintf(stderr, "qedtool: unknown command '%s'\n", argv[1]);
	usage();
	return 1;
}
