/* progress_test.c - Python-compatible progress payloads (spec §10.2). */
#include "core/progress.h"
#include "unit.h"

TEST(sizes)
{
	char b[64];
	static const struct {
		double v;
		const char *s;
	} t[] = {
	    {0, "0.0 B"},
	    {999, "999.0 B"},
	    {1000, "1.0 KB"},
	    {1234567, "1.23 MB"},
	    {999999, "1.0 MB"},
	    {1e18, "1000.0 PB"},
	    {511213682, "511.21 MB"},
	    {12500, "12.5 KB"},
	    {999994, "999.99 KB"},
	    {1e21, "1000000.0 PB"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		progress_size(b, sizeof(b), t[i].v);
		CHECK_STR(b, t[i].s);
	}
}

TEST(percent)
{
	char b[32];
	progress_percent(b, sizeof(b), 0, 0);
	CHECK_STR(b, "0");
	progress_percent(b, sizeof(b), 1, 8);
	CHECK_STR(b, "12.5");
	progress_percent(b, sizeof(b), 8, 8);
	CHECK_STR(b, "100.0");
	progress_percent(b, sizeof(b), 1, 3);
	CHECK_STR(b, "33.3");
	progress_percent(b, sizeof(b), 0, 3);
	CHECK_STR(b, "0.0");
}

TEST(message)
{
	struct progress p;
	char b[256];
	progress_init(&p, PROG_NONE, "Hashed", "Hashing speed");
	progress_set_total(&p, 511213682, 20020);
	progress_add(&p, 190000000, 7000);
	progress_message(&p, b, sizeof(b), p.start + 2.0);
	CHECK_STR(b, "Hashed 190.0 MB / 511.21 MB of 20020 files (Hashing speed: 95.0 MB/s)");
	progress_set_total(&p, 1000, 1);
	progress_message(&p, b, sizeof(b), p.start + 1.0);
	CHECK(strstr(b, "of 1 file (") != NULL);
	progress_release(&p);
}

int main(void)
{
	RUN(sizes);
	RUN(percent);
	RUN(message);
	return unit_done();
}
