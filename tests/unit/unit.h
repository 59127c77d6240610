/* unit.h - a tiny TAP harness for the C unit tests.
 *   TEST(name) { CHECK(cond); CHECK_STR(a, b); }   main: RUN(name); ... return unit_done();
 */
#ifndef JA_UNIT_H
#define JA_UNIT_H
#include <stdio.h>
#include <string.h>

static int unit_n, unit_failed, unit_cur_failed;

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			printf("# %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c);             \
			unit_cur_failed = 1;                                                       \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		if (!a_ || !b_ || strcmp(a_, b_)) {                                                \
			printf("# %s:%d: '%s' != '%s'\n", __FILE__, __LINE__, a_ ? a_ : "(null)",  \
			       b_ ? b_ : "(null)");                                                \
			unit_cur_failed = 1;                                                       \
		}                                                                                  \
	} while (0)

#define TEST(name) static void test_##name(void)
#define RUN(name)                                                                                  \
	do {                                                                                       \
		unit_cur_failed = 0;                                                               \
		test_##name();                                                                     \
		unit_n++;                                                                          \
		printf("%sok %d - %s\n", unit_cur_failed ? "not " : "", unit_n, #name);            \
		unit_failed += unit_cur_failed;                                                    \
		fflush(stdout);                                                                    \
	} while (0)

static inline int unit_done(void)
{
	printf("1..%d\n", unit_n);
	return unit_failed ? 1 : 0;
}
#endif
