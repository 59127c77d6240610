/* s3cli.c - AWS options, client construction and signals for the S3 applets. */
#include "s3cli.h"
#include "core/util.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

int s3cli_option(struct s3_config *cfg, int id, const char *arg)
{
	switch (id) {
	case OPT_ID_ENDPOINT:
		cfg->endpoint_url = arg;
		return 1;
	case OPT_ID_REGION:
		cfg->region = arg;
		return 1;
	case OPT_ID_PROFILE:
		cfg->profile = arg;
		return 1;
	case OPT_ID_OWNER:
		cfg->expected_bucket_owner = arg;
		return 1;
	case OPT_ID_RETRIES:
		cfg->max_attempts = (int)opt_long(arg, "--max-attempts", 1, 100);
		return 1;
	case OPT_ID_JOBS:
		cfg->concurrency = (int)opt_long(arg, "--jobs", 1, 1024);
		return 1;
	}
	return 0;
}

static void log_line(const char *line)
{
	fprintf(stderr, "%s: %s\n", ja_progname, line);
}

static void on_signal(int sig)
{
	(void)sig;
	store_interrupt(); /* both the store's and the S3 client's flags */
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

struct s3_client *s3cli_client(struct s3_config *cfg)
{
	struct ja_err err = {0};
	cfg->verbose = ja_verbose > 0 ? ja_verbose : 0;
	cfg->log = log_line;
	install_signals();
	struct s3_client *c = s3_client_new(cfg, &err);
	if (!c)
		die_err(&err);
	return c;
}

struct store *s3cli_store(const char *url, struct s3_config *cfg, int jobs)
{
	struct ja_err err = {0};
	struct store_opts so = {
	    .jobs = jobs ? jobs : cfg->concurrency,
	    .profile = cfg->profile,
	    .region = cfg->region,
	    .endpoint_url = cfg->endpoint_url,
	    .expected_bucket_owner = cfg->expected_bucket_owner,
	    .max_attempts = cfg->max_attempts,
	    .verbose = ja_verbose > 0 ? ja_verbose : 0,
	    .log = log_line,
	};
	install_signals();
	struct store *s = store_open(url, &so, &err);
	if (!s)
		die_err(&err);
	return s;
}
