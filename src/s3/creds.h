/* creds.h - AWS settings and credentials, resolved as the AWS CLI resolves them.
 *
 * Settings: profile, region, endpoint, CA bundle, max attempts, from the
 * environment and ~/.aws/config.  Credentials: a chain of providers tried in
 * the AWS CLI's order (environment, shared credentials file, credential_process,
 * config file, container endpoint, EC2 instance metadata IMDSv2), cached
 * and refreshed before they expire.  Never prints; secrets never appear in
 * error messages.  Profiles that assume a role, use IAM Identity Center (sso_*)
 * or web identity are refused with an error naming the profile and the key.
 */
#ifndef JA_CREDS_H
#define JA_CREDS_H

#include <stdint.h>
#include "core/util.h"

struct aws_settings {
	char *profile;	    /* AWS_PROFILE, else "default" (or the caller's choice) */
	char *region;	    /* AWS_REGION, AWS_DEFAULT_REGION, profile "region"; NULL if none */
	char *endpoint_url; /* AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, profile endpoint_url; NULL */
	char *ca_bundle;    /* AWS_CA_BUNDLE, profile ca_bundle; NULL */
	int max_attempts;   /* AWS_MAX_ATTEMPTS, profile max_attempts; default 5 */
};

/* profile NULL = AWS_PROFILE or "default".  Missing files are fine; a malformed
 * value (max_attempts=abc) or an explicitly named profile that exists in neither
 * file is an error (code 2). */
int aws_settings_load(struct aws_settings *s, const char *profile, struct ja_err *err);
void aws_settings_release(struct aws_settings *s);

struct aws_creds {
	char *access_key;
	char *secret_key;
	char *session_token; /* NULL when none */
	int64_t expires;     /* unix seconds; 0 = does not expire */
	const char *source;  /* "environment", "shared-credentials-file", "config-file",
				"credential-process", "container", "imds" */
};

struct creds_chain;

/* profile: the resolved profile name (aws_settings.profile). */
struct creds_chain *creds_chain_new(const char *profile);
/* Current credentials: resolved on first use, cached, and resolved again when they
 * expire within the next few minutes (now = unix seconds, a parameter for tests).
 * The result stays valid until the next creds_get/creds_invalidate/free.  NULL with
 * err when no provider has credentials (the message lists what was tried) or a
 * provider failed (credential_process exited non-zero, bad JSON, ...).
 * Not thread-safe: one thread (the transfer engine's) uses a chain. */
const struct aws_creds *creds_get(struct creds_chain *c, int64_t now, struct ja_err *err);
/* Drop the cached credentials (after ExpiredToken) so the next creds_get resolves again. */
void creds_invalidate(struct creds_chain *c);
void creds_chain_free(struct creds_chain *c);
/* How long a credential_process may run before it is killed and creds_get fails
 * (default 120 s, long enough for an MFA prompt on the terminal). */
void creds_chain_set_process_timeout(struct creds_chain *c, long ms);

/* RFC 3339 time ("2026-12-01T12:00:00Z", fractional seconds, "+01:00" offsets) to
 * unix seconds in *t.  -1 when malformed or without a zone. */
int aws_parse_time(const char *s, int64_t *t);

#endif
