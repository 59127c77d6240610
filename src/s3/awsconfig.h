/* awsconfig.h - the AWS shared config and credentials files, as botocore reads them.
 *
 * Internal to src/s3 (creds.c and the settings in awsconfig.c).  The files are
 * INI as Python's configparser parses them: '=' or ':' delimiters, full-line
 * '#'/';' comments, lowercased keys, continuation lines, and one level of nested
 * settings ("s3 =" followed by indented "key = value" lines, stored as "s3.key").
 * Like configparser, a line that is none of these, a setting before any section,
 * and a repeated section or key are errors: a typo must not silently drop a key.
 */
#ifndef JA_AWSCONFIG_H
#define JA_AWSCONFIG_H

#include "core/util.h"

struct aws_files;

/* Read AWS_CONFIG_FILE (else ~/.aws/config) and AWS_SHARED_CREDENTIALS_FILE (else
 * ~/.aws/credentials).  A missing file is an empty one.  Caller frees with
 * aws_files_free.  NULL with err (code 2) on a malformed or unreadable file. */
struct aws_files *aws_files_load(struct ja_err *err);
void aws_files_free(struct aws_files *f);

/* Where the files are, as the user would write them ("~/.aws/config"), for messages. */
const char *aws_files_config_name(const struct aws_files *f);
const char *aws_files_credentials_name(const struct aws_files *f);

/* 1 if [profile NAME] (or [default]) is in the config file or [NAME] in the
 * credentials file. */
int aws_profile_exists(const struct aws_files *f, const char *profile);

enum aws_scope {
	AWS_SCOPE_CONFIG,      /* the config file's profile only */
	AWS_SCOPE_CREDENTIALS, /* the credentials file's profile only */
	AWS_SCOPE_MERGED       /* credentials file first, then config file (botocore's view) */
};
/* The profile's value for key (lowercase; "s3.endpoint_url" for a nested one).
 * Borrowed; NULL when absent or empty. */
const char *aws_profile_get(const struct aws_files *f, enum aws_scope scope, const char *profile,
			    const char *key);
/* The value of key in the config file's [services NAME] section, or NULL. */
const char *aws_services_get(const struct aws_files *f, const char *name, const char *key);

/* getenv, but NULL for an empty value: an exported-but-empty variable is unset. */
const char *aws_env(const char *name);

#endif
