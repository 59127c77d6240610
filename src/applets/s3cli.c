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
	s3_interrupted = 1;
}

struct s3_client *s3cli_client(struct s3_config *cfg)
{
	struct ja_err err = {0};
	cfg->verbose = ja_verbose > 0 ? ja_verbose : 0;
	cfg->log = log_line;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct s3_client *c = s3_client_new(cfg, &err);
	if (!c)
		die_err(&err);
	return c;
}
