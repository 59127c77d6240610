/* s3cli.h - what the S3-using applets share: the AWS options, building a client
 * from them, verbose lines on stderr, and Ctrl-C handling. */
#ifndef JA_S3CLI_H
#define JA_S3CLI_H

#include "core/opt.h"
#include "core/store.h"
#include "s3/s3.h"

#define OPT_ID_ENDPOINT 1101
#define OPT_ID_REGION	1102
#define OPT_ID_PROFILE	1103
#define OPT_ID_OWNER	1104
#define OPT_ID_RETRIES	1105

#define OPT_S3                                                                                     \
	{OPT_ID_ENDPOINT,                                                                          \
	 0,                                                                                        \
	 "endpoint-url",                                                                           \
	 "URL",                                                                                    \
	 "S3-compatible endpoint (path-style addressing)",                                         \
	 NULL},                                                                                    \
	    {OPT_ID_REGION, 0, "region", "REGION", "AWS region of the bucket", NULL},              \
	    {OPT_ID_PROFILE, 0, "profile", "NAME", "AWS profile (default: $AWS_PROFILE)", NULL},   \
	    {OPT_ID_OWNER,                                                                         \
	     0,                                                                                    \
	     "expected-bucket-owner",                                                              \
	     "ACCOUNT",                                                                            \
	     "refuse buckets not owned by this account",                                           \
	     NULL},                                                                                \
	{                                                                                          \
		OPT_ID_RETRIES, 0, "max-attempts", "N",                                            \
		    "attempts per request (default: $AWS_MAX_ATTEMPTS or 5)", NULL                 \
	}

#define OPT_ID_STORE 1106
#define OPT_STORE                                                                                  \
	{                                                                                          \
		OPT_ID_STORE, 0, "store", "URL",                                                   \
		    "s3://BUCKET/PREFIX, file:///PATH or a directory (default: $JA_STORE, else "   \
		    "~/.local/share/ja/store)",                                                    \
		    NULL                                                                           \
	}

/* Collect the AWS options; returns 1 when id was one of them. */
int s3cli_option(struct s3_config *cfg, int id, const char *arg);
/* A client from cfg (-v/-vv from ja_verbose); exits with a message on failure.
 * Installs the SIGINT/SIGTERM handler that stops transfers cleanly. */
struct s3_client *s3cli_client(struct s3_config *cfg);

/* The store of --store (NULL: the default) with the AWS options of cfg; exits with a
 * message (code 2 for a bad URL) on failure.  Installs the signal handlers. */
struct store *s3cli_store(const char *url, struct s3_config *cfg, int jobs);

#endif
