/* hash.c - placeholder, being written. */
#include "core/opt.h"
#include "core/util.h"

const struct opt applet_hash_opts[] = {
	OPT_END,
};

int applet_hash_main(int argc, char **argv)
{
	struct optstate st;
	opt_init(&st, NULL, argc, argv);
	opt_release(&st);
	return EXIT_FAIL;
}
