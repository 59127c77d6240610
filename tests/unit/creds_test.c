/* creds_test.c - AWS settings and credentials: the INI files, profile choice, the
 * provider chain and its precedence, credential_process, caching and refresh, and the
 * container and instance-metadata providers against tests/creds-server.py on loopback.
 *
 * Every test starts from an empty temporary HOME with AWS_* cleared, so the machine's
 * own ~/.aws and environment never leak in.  Test secrets all contain "HUSH" or
 * "SESSIONTOKEN" (or the server's token values), and every error message is checked
 * not to contain them. */
#include "s3/creds.h"
#include "s3/http.h"
#include "unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define T2030 INT64_C(1893456000) /* 2030-01-01T00:00:00Z */

static char dir[256];

/* ---- fixtures ---------------------------------------------------------------------- */

static const char *tmp(const char *name)
{
	static char ring[4][512];
	static int next;
	char *p = ring[next++ & 3];
	snprintf(p, sizeof(ring[0]), "%s/%s", dir, name);
	return p;
}

static void put(const char *name, const char *text)
{
	FILE *f = fopen(tmp(name), "w");
	if (!f) {
		perror(name);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

static void put_script(const char *name, const char *text)
{
	put(name, text);
	chmod(tmp(name), 0755);
}

/* No AWS_* from the caller's environment, no proxy between us and the loopback server. */
static void clean_env(void)
{
	static const char *const proxies[] = {"http_proxy",  "HTTP_PROXY", "https_proxy",
					      "HTTPS_PROXY", "all_proxy",  "ALL_PROXY"};
	char *names[256];
	size_t n = 0;
	for (char **e = environ; *e && n < 256; e++)
		if (!strncmp(*e, "AWS_", 4))
			names[n++] = strndup(*e, strcspn(*e, "="));
	for (size_t i = 0; i < n; i++) {
		unsetenv(names[i]);
		free(names[i]);
	}
	for (size_t i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
		unsetenv(proxies[i]);
	setenv("HOME", dir, 1);
	setenv("AWS_CONFIG_FILE", tmp("config"), 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", tmp("credentials"), 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unlink(tmp("config"));
	unlink(tmp("credentials"));
}

static void rm_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlink(tmp(de->d_name));
	if (d)
		closedir(d);
	rmdir(dir);
}

/* 1 if msg holds none of the test secrets. */
static int clean(const char *msg)
{
	static const char *const secrets[] = {"HUSH", "SESSIONTOKEN", "5be1c0de", "9f3a77"};
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		if (strstr(msg, secrets[i])) {
			printf("# secret '%s' in message: %s\n", secrets[i], msg);
			return 0;
		}
	return 1;
}

/* The outcome of one creds_get, copied out. */
static struct {
	int ok;
	char key[128], secret[128], token[128], source[40];
	int64_t expires;
	struct ja_err err;
} got;

static void copy_got(const struct aws_creds *c)
{
	memset(&got, 0, sizeof(got));
	got.ok = c != NULL;
	if (!c)
		return;
	snprintf(got.key, sizeof(got.key), "%s", c->access_key);
	snprintf(got.secret, sizeof(got.secret), "%s", c->secret_key);
	snprintf(got.token, sizeof(got.token), "%s", c->session_token ? c->session_token : "");
	snprintf(got.source, sizeof(got.source), "%s", c->source);
	got.expires = c->expires;
}

static int chain_get(struct creds_chain *ch, int64_t now)
{
	struct ja_err e = {0};
	copy_got(creds_get(ch, now, &e));
	got.err = e;
	return got.ok;
}

/* Resolve once with a fresh chain for profile. */
static int resolve(const char *profile)
{
	struct creds_chain *ch = creds_chain_new(profile);
	int r = chain_get(ch, time(NULL));
	creds_chain_free(ch);
	return r;
}

/* The error of resolving profile: checked to be one clean line. */
static const char *resolve_err(const char *profile)
{
	if (resolve(profile))
		return "(resolved)";
	CHECK(clean(got.err.msg));
	CHECK(!strchr(got.err.msg, '\n'));
	return got.err.msg;
}

#define CHECK_HAS(s, sub)                                                                          \
	do {                                                                                       \
		const char *s_ = (s);                                                              \
		if (!strstr(s_, (sub))) {                                                          \
			printf("# %s:%d: '%s' lacks '%s'\n", __FILE__, __LINE__, s_, (sub));       \
			unit_cur_failed = 1;                                                       \
		}                                                                                  \
	} while (0)

static struct aws_settings st;
static struct ja_err st_err;

static int settings(const char *profile)
{
	aws_settings_release(&st);
	memset(&st_err, 0, sizeof(st_err));
	return aws_settings_load(&st, profile, &st_err);
}

/* ---- time -------------------------------------------------------------------------- */

static int64_t ptime(const char *s)
{
	int64_t t = -123456789;
	return aws_parse_time(s, &t) == 0 ? t : -123456789;
}

TEST(parse_time)
{
	CHECK(ptime("2026-12-01T12:00:00Z") == 1796126400);
	CHECK(ptime("1970-01-01T00:00:00Z") == 0);
	CHECK(ptime("1969-12-31T23:59:59Z") == -1);
	CHECK(ptime("2024-02-29T00:00:00Z") == 1709164800);
	CHECK(ptime("2000-02-29T23:59:59Z") == 951868799);
	CHECK(ptime("1600-03-01T00:00:00Z") == INT64_C(-11670912000));
	CHECK(ptime("9999-12-31T23:59:59Z") == INT64_C(253402300799));
	CHECK(ptime("2026-12-01T12:00:00.123456Z") == 1796126400);
	CHECK(ptime("2026-12-01T12:00:00.5+00:00") == 1796126400);
	CHECK(ptime("2026-12-01T12:00:00+00:00") == 1796126400);
	CHECK(ptime("2026-12-01T13:00:00+01:00") == 1796126400);
	CHECK(ptime("2026-12-01T06:30:00-05:30") == 1796126400);
	CHECK(ptime("2026-12-01T13:00:00+0100") == 1796126400);
	CHECK(ptime("2026-12-01t12:00:00z") == 1796126400);
	CHECK(ptime("2026-12-01 12:00:00Z") == 1796126400);
	CHECK(ptime("2030-01-01T00:00:00Z") == T2030);
}

TEST(parse_time_rejects)
{
	static const char *const bad[] = {
	    "",
	    "2026-12-01",
	    "2026-12-01T12:00:00", /* no zone: which day is ambiguous */
	    "2026-12-01T12:00Z",
	    "2026-12-1T12:00:00Z",
	    "2026-13-01T12:00:00Z",
	    "2026-00-01T12:00:00Z",
	    "2026-04-31T12:00:00Z",
	    "2023-02-29T12:00:00Z",
	    "2100-02-29T12:00:00Z",
	    "2026-12-01T24:00:00Z",
	    "2026-12-01T12:60:00Z",
	    "2026-12-01T12:00:61Z",
	    "2026-12-01T12:00:00.Z",
	    "2026-12-01T12:00:00Zjunk",
	    "2026-12-01T12:00:00+05",
	    "2026-12-01T12:00:00+24:00",
	    "2026-12-01X12:00:00Z",
	    " 2026-12-01T12:00:00Z",
	    "1796126400",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t t = 0;
		if (aws_parse_time(bad[i], &t) == 0) {
			printf("# accepted '%s'\n", bad[i]);
			unit_cur_failed = 1;
		}
	}
}

/* ---- INI files and settings -------------------------------------------------------- */

TEST(ini_parsing)
{
	clean_env();
	put("config", "\xef\xbb\xbf# comment\r\n"
		      "; another comment\r\n"
		      "[default]\r\n"
		      "region = us-west-2\r\n"
		      "\n"
		      "[profile dev]  \n"
		      "Region:eu-west-1\n"
		      "endpoint_url = http://localhost:9000\n"
		      "ca_bundle=/etc/ssl/dev.pem\n"
		      "s3 =\n"
		      "    addressing_style = path\n"
		      "\n"
		      "    max_concurrent_requests = 20\n"
		      "max_attempts = 7\n"
		      "[profile \"with space\"]\n"
		      "region = ap-south-1 # not a comment, as in botocore\n"
		      "[profile cont]\n"
		      "region = us-east-1\n"
		      "   more\n"
		      "[sso-session corp]\n"
		      "sso_region = us-east-1\n"
		      "[services local]\n"
		      "s3 =\n"
		      "  endpoint_url = http://127.0.0.1:9999\n"
		      "[profile svc]\n"
		      "services = local\n"
		      "endpoint_url = http://global.example\n"
		      "[plugins]\n"
		      "cli_legacy_plugin_path = /x\n");
	put("credentials", "[dev2]\nregion = sa-east-1\n");
	CHECK(settings(NULL) == 0);
	CHECK_STR(st.profile, "default");
	CHECK_STR(st.region, "us-west-2");
	CHECK(st.endpoint_url == NULL && st.ca_bundle == NULL && st.max_attempts == 5);
	CHECK(settings("dev") == 0);
	CHECK_STR(st.region, "eu-west-1");
	CHECK_STR(st.endpoint_url, "http://localhost:9000");
	CHECK_STR(st.ca_bundle, "/etc/ssl/dev.pem");
	CHECK(st.max_attempts == 7);
	CHECK(settings("with space") == 0);
	CHECK_STR(st.region, "ap-south-1 # not a comment, as in botocore");
	CHECK(settings("cont") == 0);
	CHECK_STR(st.region, "us-east-1\nmore");
	CHECK(settings("svc") == 0);
	CHECK_STR(st.endpoint_url, "http://127.0.0.1:9999");
	CHECK(settings("dev2") == 0);
	CHECK_STR(st.region, "sa-east-1");
	/* sections that are not profiles are not profiles */
	CHECK(settings("corp") < 0);
	CHECK(settings("plugins") < 0);
	CHECK(settings("profile dev") < 0);
	aws_settings_release(&st);
}

TEST(ini_last_profile_section_wins)
{
	clean_env();
	put("config", "[profile default]\nregion = a\n[default]\nregion = b\n");
	CHECK(settings(NULL) == 0);
	CHECK_STR(st.region, "b");
	put("config", "[default]\nregion = b\n[profile default]\nregion = a\n");
	CHECK(settings(NULL) == 0);
	CHECK_STR(st.region, "a");
	aws_settings_release(&st);
}

static void check_ini_error(const char *file, const char *text, const char *want)
{
	put(file, text);
	if (settings(NULL) == 0) {
		printf("# accepted: %s\n", text);
		unit_cur_failed = 1;
		return;
	}
	CHECK(st_err.code == EXIT_USAGE);
	CHECK_HAS(st_err.msg, want);
	CHECK_HAS(st_err.msg, tmp(file));
	CHECK(clean(st_err.msg));
	unlink(tmp(file));
}

TEST(ini_errors)
{
	clean_env();
	check_ini_error("config", "region = x\n", "line 1: setting before any [section]");
	check_ini_error("config", "[default]\naws_secret_access_key HUSHabc\n",
			"line 2: expected 'key = value'");
	check_ini_error("config", "[default]\n\n[default]\n", "line 3: section [default] appears");
	check_ini_error("config", "[default]\nregion=a\nREGION = b\n", "line 3: 'region' appears");
	check_ini_error("config", "[default\n", "line 1: section header without ']'");
	check_ini_error("config", "[ ]\n", "line 1: empty section name");
	check_ini_error("config", "[default]\n= HUSHvalue\n", "line 2: setting without a name");
	check_ini_error("config", "[default]\ns3 =\n  HUSHjunk\n",
			"line 3: expected 'key = value'");
	check_ini_error("credentials", "[default]\naws_access_key_id\n", "line 2");
	/* a NUL byte cannot go through put() */
	static const char nul[] = "[default]\nregion = a\0b\n";
	FILE *f = fopen(tmp("config"), "w");
	fwrite(nul, 1, sizeof(nul) - 1, f);
	fclose(f);
	CHECK(settings(NULL) < 0);
	CHECK_HAS(st_err.msg, "NUL byte");
	/* a directory where the file should be */
	unlink(tmp("config"));
	mkdir(tmp("config"), 0700);
	CHECK(settings(NULL) < 0);
	CHECK_HAS(st_err.msg, "config");
	rmdir(tmp("config"));
	aws_settings_release(&st);
}

TEST(default_paths_under_home)
{
	clean_env();
	unsetenv("AWS_CONFIG_FILE");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	mkdir(tmp(".aws"), 0700);
	put(".aws/config", "[profile p]\nregion = eu-north-1\n");
	CHECK(settings("p") == 0);
	CHECK_STR(st.region, "eu-north-1");
	CHECK(settings("q") < 0);
	CHECK_STR(st_err.msg, "profile 'q' not found in ~/.aws/config or ~/.aws/credentials");
	setenv("AWS_CONFIG_FILE", "~/.aws/config", 1); /* botocore expands ~ here too */
	CHECK(settings("p") == 0);
	unlink(tmp(".aws/config"));
	rmdir(tmp(".aws"));
	aws_settings_release(&st);
}

TEST(profile_selection)
{
	clean_env();
	/* no files at all: the default profile, nothing set */
	CHECK(settings(NULL) == 0);
	CHECK_STR(st.profile, "default");
	CHECK(!st.region && !st.endpoint_url && !st.ca_bundle && st.max_attempts == 5);
	put("config",
	    "[default]\nregion = d\n[profile a]\nregion = ra\n[profile b]\nregion = rb\n");
	put("credentials", "[c]\naws_access_key_id = AKIAC\naws_secret_access_key = HUSHc\n");
	setenv("AWS_DEFAULT_PROFILE", "b", 1);
	CHECK(settings(NULL) == 0);
	CHECK_STR(st.profile, "b");
	setenv("AWS_PROFILE", "a", 1);
	CHECK(settings(NULL) == 0);
	CHECK_STR(st.profile, "a");
	CHECK_STR(st.region, "ra");
	CHECK(settings("b") == 0);
	CHECK_STR(st.profile, "b");
	CHECK(settings("c") == 0); /* only in the credentials file */
	CHECK(st.region == NULL);
	setenv("AWS_PROFILE", "", 1); /* empty is unset */
	unsetenv("AWS_DEFAULT_PROFILE");
	CHECK(settings(NULL) == 0);
	CHECK_STR(st.profile, "default");
	/* a named profile must exist, even when environment credentials are set */
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "HUSHenv", 1);
	setenv("AWS_PROFILE", "missing", 1);
	CHECK(settings(NULL) < 0);
	CHECK(st_err.code == EXIT_USAGE);
	char want[1024];
	snprintf(want, sizeof(want), "profile 'missing' not found in %s or %s", tmp("config"),
		 tmp("credentials"));
	CHECK_STR(st_err.msg, want);
	CHECK(settings("nope") < 0);
	/* ... and so must an explicitly named "default" */
	put("config", "[profile a]\n");
	CHECK(settings("default") < 0);
	unsetenv("AWS_PROFILE");
	CHECK(settings(NULL) == 0); /* the implicit default may be absent */
	aws_settings_release(&st);
}

TEST(settings_precedence)
{
	clean_env();
	put("config", "[default]\nregion = file-region\nca_bundle = /file.pem\n"
		      "endpoint_url = http://file\nmax_attempts = 9\nservices = s\n"
		      "[services s]\ns3 =\n  endpoint_url = http://services\n");
	CHECK(settings(NULL) == 0);
	CHECK_STR(st.region, "file-region");
	CHECK_STR(st.endpoint_url, "http://services");
	CHECK(st.max_attempts == 9);
	setenv("AWS_DEFAULT_REGION", "env-default", 1);
	setenv("AWS_ENDPOINT_URL", "http://env-global", 1);
	setenv("AWS_CA_BUNDLE", "/env.pem", 1);
	setenv("AWS_MAX_ATTEMPTS", "3", 1);
	CHECK(settings(NULL) == 0);
	CHECK_STR(st.region, "env-default");
	CHECK_STR(st.endpoint_url, "http://env-global");
	CHECK_STR(st.ca_bundle, "/env.pem");
	CHECK(st.max_attempts == 3);
	setenv("AWS_REGION", "env-region", 1);
	setenv("AWS_ENDPOINT_URL_S3", "http://env-s3", 1);
	CHECK(settings(NULL) == 0);
	CHECK_STR(st.region, "env-region");
	CHECK_STR(st.endpoint_url, "http://env-s3");
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
	CHECK(settings(NULL) == 0);
	CHECK(st.endpoint_url == NULL);
	aws_settings_release(&st);
}

TEST(max_attempts_checked)
{
	static const char *const bad[] = {"0", "101", "abc", "5x", "-1", " 5", "99999999999999"};
	clean_env();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("AWS_MAX_ATTEMPTS", bad[i], 1);
		CHECK(settings(NULL) < 0);
		CHECK(st_err.code == EXIT_USAGE);
		CHECK_HAS(st_err.msg, "AWS_MAX_ATTEMPTS");
	}
	setenv("AWS_MAX_ATTEMPTS", "100", 1);
	CHECK(settings(NULL) == 0 && st.max_attempts == 100);
	unsetenv("AWS_MAX_ATTEMPTS");
	put("config", "[default]\nmax_attempts = many\n");
	CHECK(settings(NULL) < 0);
	CHECK_STR(st_err.msg, "max_attempts 'many' is not a number from 1 to 100");
	aws_settings_release(&st);
}

/* ---- static credentials ------------------------------------------------------------ */

TEST(env_credentials)
{
	clean_env();
	put("credentials", "[default]\naws_access_key_id = AKIAFILE\n"
			   "aws_secret_access_key = HUSHfile\n");
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "HUSHenv", 1);
	CHECK(resolve(NULL));
	CHECK_STR(got.source, "environment");
	CHECK_STR(got.key, "AKIAENV");
	CHECK_STR(got.secret, "HUSHenv");
	CHECK_STR(got.token, "");
	CHECK(got.expires == 0);
	setenv("AWS_SECURITY_TOKEN", "SESSIONTOKENold", 1);
	CHECK(resolve(NULL));
	CHECK_STR(got.token, "SESSIONTOKENold");
	setenv("AWS_SESSION_TOKEN", "SESSIONTOKENnew", 1);
	CHECK(resolve(NULL));
	CHECK_STR(got.token, "SESSIONTOKENnew");
	setenv("AWS_CREDENTIAL_EXPIRATION", "2099-01-01T00:00:00Z", 1);
	CHECK(resolve(NULL));
	CHECK(got.expires == ptime("2099-01-01T00:00:00Z"));
	setenv("AWS_CREDENTIAL_EXPIRATION", "2001-01-01T00:00:00Z", 1);
	CHECK_HAS(resolve_err(NULL), "expired at 2001-01-01T00:00:00Z");
	unsetenv("AWS_CREDENTIAL_EXPIRATION");
	/* one without the other */
	unsetenv("AWS_SECRET_ACCESS_KEY");
	CHECK_STR(resolve_err(NULL), "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
	CHECK(got.err.code == EXIT_USAGE);
	unsetenv("AWS_ACCESS_KEY_ID");
	setenv("AWS_SECRET_ACCESS_KEY", "HUSHenv", 1);
	CHECK_STR(resolve_err(NULL), "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
	/* a value that would corrupt a header */
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "HUSH with space", 1);
	CHECK_HAS(resolve_err(NULL), "AWS_SECRET_ACCESS_KEY is empty or not printable ASCII");
	setenv("AWS_SECRET_ACCESS_KEY", "HUSHenv", 1);
	setenv("AWS_SESSION_TOKEN", "SESSIONTOKEN\r\nX-Injected: 1", 1);
	CHECK_HAS(resolve_err(NULL), "AWS_SESSION_TOKEN is empty or not printable ASCII");
}

TEST(file_credentials)
{
	clean_env();
	put("config", "[default]\naws_access_key_id = AKIACONFIG\n"
		      "aws_secret_access_key = HUSHconfig\n"
		      "[profile dev]\naws_access_key_id = AKIACONFIGDEV\n"
		      "aws_secret_access_key = HUSHconfigdev\n");
	CHECK(resolve(NULL));
	CHECK_STR(got.source, "config-file");
	CHECK_STR(got.key, "AKIACONFIG");
	CHECK_STR(got.token, "");
	put("credentials", "[default]\nAWS_ACCESS_KEY_ID = AKIAFILE\n"
			   "aws_secret_access_key = HUSHfile\n"
			   "aws_session_token = SESSIONTOKENfile\n"
			   "[dev]\naws_access_key_id=AKIAFILEDEV\naws_secret_access_key=HUSHdev\n"
			   "aws_security_token = SESSIONTOKENdev\n");
	CHECK(resolve(NULL));
	CHECK_STR(got.source, "shared-credentials-file");
	CHECK_STR(got.key, "AKIAFILE");
	CHECK_STR(got.secret, "HUSHfile");
	CHECK_STR(got.token, "SESSIONTOKENfile");
	CHECK(resolve("dev"));
	CHECK_STR(got.key, "AKIAFILEDEV");
	CHECK_STR(got.token, "SESSIONTOKENdev");
	/* half a key pair is an error, not a fall-through to the next provider */
	put("credentials", "[default]\naws_secret_access_key = HUSHhalf\n");
	const char *m = resolve_err(NULL);
	CHECK_HAS(m, "profile 'default' in ");
	CHECK_HAS(m, "aws_access_key_id is missing");
	CHECK(got.err.code == EXIT_USAGE);
	put("credentials", "[default]\naws_access_key_id = AKIAHALF\n");
	CHECK_HAS(resolve_err(NULL), "aws_secret_access_key is missing");
}

TEST(unsupported_profiles)
{
	clean_env();
	put("config", "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/x\n"
		      "source_profile = default\n"
		      "[profile s]\nsso_session = corp\nsso_account_id = 1\n"
		      "[profile w]\nweb_identity_token_file = /var/run/token\n"
		      "[profile k]\nsource_profile = r\n");
	put("credentials", "[r]\naws_access_key_id = AKIAR\naws_secret_access_key = HUSHr\n"
			   "[c]\naws_access_key_id = AKIAC\naws_secret_access_key = HUSHc\n"
			   "role_arn = arn:aws:iam::123456789012:role/y\n");
	const char *m = resolve_err("r");
	CHECK_HAS(m, "profile 'r' uses role_arn (assume role), which ja does not support");
	CHECK_HAS(m, "aws configure export-credentials --profile r --format process");
	CHECK(got.err.code == EXIT_USAGE);
	CHECK_HAS(resolve_err("s"), "profile 's' uses sso_session (IAM Identity Center)");
	CHECK_HAS(resolve_err("w"), "uses web_identity_token_file (web identity)");
	CHECK_HAS(resolve_err("k"), "uses source_profile");
	CHECK_HAS(resolve_err("c"), "profile 'c' uses role_arn");
	/* environment credentials come first, as in botocore */
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "HUSHenv", 1);
	CHECK(resolve("r"));
	CHECK_STR(got.source, "environment");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token", 1);
	CHECK_HAS(resolve_err(NULL), "AWS_WEB_IDENTITY_TOKEN_FILE is set (web identity)");
}

TEST(nothing_found)
{
	clean_env();
	put("config", "[default]\nregion = us-east-1\n");
	const char *m = resolve_err(NULL);
	CHECK_HAS(m, "no AWS credentials found for profile 'default' (tried environment, shared "
		     "credentials file, credential_process, config file, container endpoint, "
		     "instance metadata: disabled by AWS_EC2_METADATA_DISABLED)");
	CHECK(got.err.code == EXIT_FAIL);
	/* a profile the chain is given need not exist: it just has nothing */
	CHECK_HAS(resolve_err("ghost"), "no AWS credentials found for profile 'ghost'");
}

/* ---- credential_process ------------------------------------------------------------ */

/* A config whose default profile runs script NAME from the temp directory.  "exec"
 * makes the script the process a timeout kills: its own children are not tracked. */
static void use_process(const char *name, const char *script)
{
	char cfg[1024];
	put_script(name, script);
	snprintf(cfg, sizeof(cfg), "[default]\ncredential_process = exec %s --flag 'quoted arg'\n",
		 tmp(name));
	put("config", cfg);
}

TEST(process_credentials)
{
	clean_env();
	use_process("ok.sh",
		    "#!/bin/sh\n"
		    "[ \"$2\" = 'quoted arg' ] || exit 9\n"
		    "cat <<EOF\n"
		    "{\"Version\": 1, \"AccessKeyId\": \"AKIAPROC\",\n"
		    " \"SecretAccessKey\": \"HUSHproc\", \"SessionToken\": \"SESSIONTOKENp\",\n"
		    " \"Expiration\": \"2099-06-01T00:00:00.000+00:00\", \"Extra\": [1, {}]}\n"
		    "EOF\n");
	CHECK(resolve(NULL));
	CHECK_STR(got.source, "credential-process");
	CHECK_STR(got.key, "AKIAPROC");
	CHECK_STR(got.secret, "HUSHproc");
	CHECK_STR(got.token, "SESSIONTOKENp");
	CHECK(got.expires == ptime("2099-06-01T00:00:00Z"));
	/* SessionToken and Expiration are optional; null counts as absent */
	use_process("min.sh", "#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"AKIAMIN\","
			      "\"SecretAccessKey\":\"HUSHmin\",\"SessionToken\":null}'\n");
	CHECK(resolve(NULL));
	CHECK_STR(got.key, "AKIAMIN");
	CHECK_STR(got.token, "");
	CHECK(got.expires == 0);
	/* ahead of the config file's keys, behind the credentials file's */
	put("config", "[default]\naws_access_key_id = AKIACONFIG\naws_secret_access_key = HUSHc\n"
		      "credential_process = sh -c 'echo \"{\\\"Version\\\":1,\\\"AccessKeyId\\\":"
		      "\\\"AKIASH\\\",\\\"SecretAccessKey\\\":\\\"HUSHsh\\\"}\"'\n");
	CHECK(resolve(NULL));
	CHECK_STR(got.key, "AKIASH");
	put("credentials",
	    "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = HUSHf\n");
	CHECK(resolve(NULL));
	CHECK_STR(got.key, "AKIAFILE");
	/* credential_process in the credentials file counts (botocore merges the files) */
	put("config", "");
	put("credentials", "[default]\ncredential_process = echo '{\"Version\": 1, "
			   "\"AccessKeyId\": \"AKIACRED\", \"SecretAccessKey\": \"HUSHx\"}'\n");
	CHECK(resolve(NULL));
	CHECK_STR(got.key, "AKIACRED");
}

static void check_process_error(const char *script, const char *want)
{
	/* a new file each time: a killed helper's own children may still be reading theirs */
	static int n;
	char name[32];
	snprintf(name, sizeof(name), "bad%d.sh", ++n);
	use_process(name, script);
	const char *m = resolve_err(NULL);
	CHECK_HAS(m, "credential_process of profile 'default': ");
	CHECK_HAS(m, want);
	CHECK(got.err.code == EXIT_FAIL);
}

#define GOOD_JSON                                                                                  \
	"{\"Version\":1,\"AccessKeyId\":\"AKIAX\",\"SecretAccessKey\":\"HUSHx\","                  \
	"\"SessionToken\":\"SESSIONTOKENx\"}"

TEST(process_errors)
{
	clean_env();
	check_process_error("#!/bin/sh\necho '" GOOD_JSON "'\nexit 3\n", "exited with status 3");
	check_process_error("#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"AKIAX\",\n"
			    "\"SecretAccessKey\":HUSHunquoted}'\n",
			    "malformed credentials JSON (line 2, column 19)");
	check_process_error("#!/bin/sh\necho 'HUSH plain text'\n", "malformed credentials JSON");
	check_process_error("#!/bin/sh\necho '" GOOD_JSON " trailing'\n",
			    "malformed credentials JSON");
	check_process_error("#!/bin/sh\necho '{\"Version\":2,\"AccessKeyId\":\"AKIAX\","
			    "\"SecretAccessKey\":\"HUSHx\"}'\n",
			    "Version 2 is not supported (expected 1)");
	check_process_error("#!/bin/sh\necho '{\"Version\":\"1\",\"AccessKeyId\":\"AKIAX\"}'\n",
			    "Version is not a number");
	check_process_error("#!/bin/sh\necho '{\"AccessKeyId\":\"AKIAX\","
			    "\"SecretAccessKey\":\"HUSHx\"}'\n",
			    "Version is missing");
	check_process_error("#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"AKIAX\"}'\n",
			    "SecretAccessKey is missing");
	check_process_error("#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"AKIAX\","
			    "\"SecretAccessKey\":\"HUSHx\",\"Expiration\":\"tomorrow\"}'\n",
			    "Expiration 'tomorrow' is not an RFC 3339 time");
	check_process_error("#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"AKIAX\","
			    "\"SecretAccessKey\":\"HUSHx\",\"SecretAccessKey\":\"HUSHy\"}'\n",
			    "malformed credentials JSON");
	check_process_error("#!/bin/sh\nhead -c 70000 /dev/zero | tr '\\0' S\n",
			    "wrote more than 64 KiB");
	put("config", "[default]\ncredential_process = echo '" GOOD_JSON "'; kill -9 $$\n");
	CHECK_HAS(resolve_err(NULL), "was killed by signal 9");
	/* already expired when fetched */
	use_process("old.sh",
		    "#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"AKIAX\","
		    "\"SecretAccessKey\":\"HUSHx\",\"Expiration\":\"2001-01-01T00:00:00Z\"}'\n");
	CHECK_HAS(resolve_err(NULL), "credentials from credential-process expired at 2001-01-01");
	put("config", "[default]\ncredential_process = /nonexistent/helper 2>/dev/null\n");
	CHECK_HAS(resolve_err(NULL), "exited with status 127");
}

TEST(process_timeout)
{
	clean_env();
	use_process("slow.sh", "#!/bin/sh\nexec sleep 10\n");
	struct creds_chain *ch = creds_chain_new(NULL);
	creds_chain_set_process_timeout(ch, 300);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK(!chain_get(ch, time(NULL)));
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK_STR(got.err.msg, "credential_process of profile 'default': did not finish within "
			       "300 ms");
	CHECK(b.tv_sec - a.tv_sec < 3);
	/* closed stdout but kept running: still bounded */
	use_process("linger.sh", "#!/bin/sh\necho '" GOOD_JSON "'\nexec >&-\nexec sleep 10\n");
	CHECK(!chain_get(ch, time(NULL)));
	CHECK_HAS(got.err.msg, "did not finish within 300 ms");
	creds_chain_free(ch);
}

/* A credential_process that counts its runs and hands out AKIAPROC0001, 0002, ...
 * expiring at the time in file "exp". */
static void counting_process(void)
{
	use_process("count.sh", "#!/bin/sh\n"
				"cd \"$(dirname \"$0\")\"\n"
				"n=$(( $(cat n 2>/dev/null || echo 0) + 1 ))\n"
				"echo $n > n\n"
				"echo run >> runs\n"
				"printf '{\"Version\":1,\"AccessKeyId\":\"AKIAPROC%04d\","
				"\"SecretAccessKey\":\"HUSHp\",\"Expiration\":\"%s\"}' "
				"$n \"$(cat exp)\"\n");
	unlink(tmp("n"));
	unlink(tmp("runs"));
}

static int runs(void)
{
	int n = 0, c;
	FILE *f = fopen(tmp("runs"), "r");
	while (f && (c = fgetc(f)) != EOF)
		n += c == '\n';
	if (f)
		fclose(f);
	return n;
}

TEST(refresh_with_now)
{
	clean_env();
	counting_process();
	put("exp", "2030-01-01T00:00:00Z");
	struct creds_chain *ch = creds_chain_new("default");
	CHECK(chain_get(ch, T2030 - 3600));
	CHECK_STR(got.key, "AKIAPROC0001");
	CHECK(got.expires == T2030);
	const struct aws_creds *first = creds_get(ch, T2030 - 3000, NULL);
	CHECK(first && !strcmp(first->access_key, "AKIAPROC0001"));
	CHECK(chain_get(ch, T2030 - 15 * 60 - 1)); /* not yet in the window */
	CHECK_STR(got.key, "AKIAPROC0001");
	CHECK(runs() == 1);
	CHECK(chain_get(ch, T2030 - 15 * 60)); /* advisory refresh */
	CHECK_STR(got.key, "AKIAPROC0002");
	CHECK(runs() == 2);
	/* the refresh fails: the old credentials serve while they are valid */
	use_process("count.sh", "#!/bin/sh\necho run >> \"$(dirname \"$0\")/runs\"\nexit 1\n");
	CHECK(chain_get(ch, T2030 - 451)); /* 15 minutes left: next refresh half-way */
	CHECK(runs() == 2);
	CHECK(chain_get(ch, T2030 - 450));
	CHECK_STR(got.key, "AKIAPROC0002");
	CHECK(runs() == 3);
	CHECK(chain_get(ch, T2030 - 391)); /* no retry for a minute */
	CHECK(runs() == 3);
	CHECK(chain_get(ch, T2030 - 390));
	CHECK(runs() == 4);
	CHECK_STR(got.key, "AKIAPROC0002");
	CHECK(!chain_get(ch, T2030)); /* expired, and still no new ones */
	CHECK_HAS(got.err.msg, "exited with status 1");
	CHECK(clean(got.err.msg));
	CHECK(runs() == 5);
	/* back to working: resolved afresh */
	counting_process();
	CHECK(chain_get(ch, T2030 - 3600));
	CHECK_STR(got.key, "AKIAPROC0001");
	creds_invalidate(ch);
	CHECK(chain_get(ch, T2030 - 3600));
	CHECK_STR(got.key, "AKIAPROC0002");
	creds_chain_free(ch);
}

TEST(refresh_short_lived)
{
	clean_env();
	counting_process();
	put("exp", "2030-01-01T00:00:00Z");
	struct creds_chain *ch = creds_chain_new(NULL);
	/* ten minutes left: refreshed half-way, not on every call */
	CHECK(chain_get(ch, T2030 - 600));
	CHECK(chain_get(ch, T2030 - 301));
	CHECK(runs() == 1);
	CHECK(chain_get(ch, T2030 - 300));
	CHECK(runs() == 2);
	CHECK_STR(got.key, "AKIAPROC0002");
	/* static credentials are never resolved again */
	clean_env();
	put("credentials",
	    "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = HUSHf\n");
	creds_invalidate(ch);
	CHECK(chain_get(ch, 0));
	unlink(tmp("credentials"));
	CHECK(chain_get(ch, T2030 * 2));
	CHECK_STR(got.key, "AKIAFILE");
	creds_chain_free(ch);
}

/* ---- container and instance metadata, against tests/creds-server.py ----------------- */

static pid_t srv_pid = -1;
static int srv_in = -1, srv_port;

static int server_start(void)
{
	int in[2], out[2], rc;
	char line[16];
	size_t n = 0;
	posix_spawn_file_actions_t fa;
	char *argv[] = {"python3", "tests/creds-server.py", NULL};
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	rc = posix_spawnp(&srv_pid, "python3", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	srv_in = in[1]; /* the server lives until this closes */
	struct pollfd p = {.fd = out[0], .events = POLLIN};
	while (!rc && n < sizeof(line) - 1 && poll(&p, 1, 10000) > 0 &&
	       read(out[0], line + n, 1) == 1 && line[n] != '\n')
		n++;
	line[n] = 0;
	close(out[0]);
	srv_port = atoi(line);
	return !rc && srv_port > 0 ? 0 : -1;
}

static void server_stop(void)
{
	if (srv_in >= 0)
		close(srv_in);
	if (srv_pid > 0)
		waitpid(srv_pid, NULL, 0);
}

static const char *server_url(const char *path)
{
	static char url[4][256];
	static int next;
	char *u = url[next++ & 3];
	snprintf(u, sizeof(url[0]), "http://127.0.0.1:%d%s", srv_port, path);
	return u;
}

static int server_get(const char *what)
{
	char path[128];
	struct http_simple rq = {.method = "GET", .url = path};
	struct buf b = BUF_INIT;
	struct ja_err e;
	long status = 0;
	int n = -1;
	snprintf(path, sizeof(path), "%s", server_url("/_control/"));
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s", what);
	if (http_simple_fetch(&rq, &status, &b, &e) == 0 && status == 200)
		n = atoi(b.p);
	buf_release(&b);
	return n;
}

static void server_mode(const char *mode)
{
	CHECK(server_get(mode) == 0);
}

#define CONTAINER_AUTH "container-auth-token-9f3a77"

static void use_container(void)
{
	clean_env();
	server_mode("ok");
	server_mode("expires/21600");
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", server_url("/container/creds"), 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", CONTAINER_AUTH, 1);
}

TEST(container_credentials)
{
	use_container();
	int before = server_get("count");
	int64_t now = time(NULL);
	CHECK(resolve(NULL));
	CHECK_STR(got.source, "container");
	CHECK(!strncmp(got.key, "ASIACONT", 8));
	CHECK(!strncmp(got.secret, "HUSH-CONT-", 10));
	CHECK(!strncmp(got.token, "SESSIONTOKEN-CONT-", 18));
	CHECK(got.expires >= now + 21600 - 60 && got.expires <= now + 21600 + 60);
	CHECK(server_get("count") == before + 1);
	/* the token file wins over the variable, and its final newline is not part of it */
	put("auth", CONTAINER_AUTH "\n");
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tmp("auth"), 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong", 1);
	CHECK(resolve(NULL));
	CHECK_STR(got.source, "container");
	/* ahead of instance metadata, behind the files */
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", server_url(""), 1);
	unsetenv("AWS_EC2_METADATA_DISABLED");
	CHECK(resolve(NULL));
	CHECK_STR(got.source, "container");
	put("config", "[default]\naws_access_key_id = AKIACONFIG\naws_secret_access_key = HUSHc\n");
	CHECK(resolve(NULL));
	CHECK_STR(got.source, "config-file");
}

TEST(container_errors)
{
	use_container();
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong-HUSH-token", 1);
	const char *m = resolve_err(NULL);
	char want[200];
	snprintf(want, sizeof(want),
		 "container credentials endpoint http://127.0.0.1:%d: answered "
		 "HTTP 401",
		 srv_port);
	CHECK_STR(m, want);
	CHECK(!strstr(m, "/container/creds")); /* the path can be the capability */
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	CHECK_HAS(resolve_err(NULL), "answered HTTP 401");
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "HUSH\nX-Injected: 1", 1);
	CHECK_HAS(resolve_err(NULL), "the container authorization token has a line break");
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tmp("no-such-file"), 1);
	CHECK_HAS(resolve_err(NULL), "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: ");
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", CONTAINER_AUTH, 1);
	server_mode("fail");
	CHECK_HAS(resolve_err(NULL), "answered HTTP 500");
	server_mode("badjson");
	CHECK_HAS(resolve_err(NULL), "malformed credentials JSON (line 1, column ");
	server_mode("ok");
	/* user info in the URL is not shown either */
	char url[200];
	snprintf(url, sizeof(url), "http://user:HUSHpw@127.0.0.1:%d/nowhere", srv_port);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	CHECK_HAS(resolve_err(NULL), "answered HTTP 404");
	server_mode("ok");
}

TEST(container_hosts)
{
	static const char *const refused[] = {
	    "http://example.com/creds",
	    "http://169.254.170.23.example.com/",
	    "http://10.0.0.1:80/creds",
	    "http://[fd00:ec2::24]/creds",
	    "http://128.0.0.1/",
	    "http://localhost.example/",
	    "http://127.0.0.1@evil.example/",
	};
	static const char *const allowed[] = {
	    "http://127.0.0.2:1/",
	    "http://[::1]:1/",
	    "http://LOCALHOST:1/x",
	    "http://evil@127.0.0.1:1/",
	};
	use_container();
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", refused[i], 1);
		CHECK_HAS(resolve_err(NULL), "is not allowed");
	}
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", allowed[i], 1);
		const char *m = resolve_err(NULL);
		CHECK(!strstr(m, "is not allowed")); /* refused by the network, not by us */
		CHECK_HAS(m, "container credentials endpoint http://");
	}
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "ftp://127.0.0.1/", 1);
	CHECK_HAS(resolve_err(NULL), "not an http:// or https:// URL");
}

TEST(container_refresh)
{
	use_container();
	server_mode("expires/600");
	int64_t now = time(NULL);
	struct creds_chain *ch = creds_chain_new(NULL);
	CHECK(chain_get(ch, now));
	char first[128];
	snprintf(first, sizeof(first), "%s", got.key);
	CHECK(chain_get(ch, now + 200));
	CHECK_STR(got.key, first);
	CHECK(chain_get(ch, now + 400)); /* half of ten minutes has passed */
	CHECK(strcmp(got.key, first) != 0);
	server_mode("fail"); /* fails, but the current ones are still good */
	CHECK(chain_get(ch, now + 550));
	CHECK(strcmp(got.key, first) != 0);
	CHECK(chain_get(ch, now + 2000) == 0);
	CHECK_HAS(got.err.msg, "answered HTTP 500");
	creds_chain_free(ch);
	server_mode("ok");
	server_mode("expires/21600");
}

static void use_imds(void)
{
	clean_env();
	server_mode("ok");
	server_mode("expires/21600");
	unsetenv("AWS_EC2_METADATA_DISABLED");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", server_url("/"), 1);
}

TEST(imds_credentials)
{
	use_imds();
	int64_t now = time(NULL);
	CHECK(resolve(NULL));
	CHECK_STR(got.source, "imds");
	CHECK(!strncmp(got.key, "ASIAIMDS", 8));
	CHECK(!strncmp(got.secret, "HUSH-IMDS-", 10));
	CHECK(!strncmp(got.token, "SESSIONTOKEN-IMDS-", 18));
	CHECK(got.expires >= now + 21600 - 60 && got.expires <= now + 21600 + 60);
	/* the settings may come from the config file too */
	unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	char cfg[300];
	snprintf(cfg, sizeof(cfg),
		 "[default]\nec2_metadata_service_endpoint = %s\n"
		 "metadata_service_timeout = 2\nmetadata_service_num_attempts = 2\n",
		 server_url(""));
	put("config", cfg);
	CHECK(resolve(NULL));
	CHECK_STR(got.source, "imds");
	/* no IMDSv2 on this host: botocore falls back to IMDSv1 */
	server_mode("v1");
	CHECK(resolve(NULL));
	CHECK_STR(got.source, "imds");
	setenv("AWS_EC2_METADATA_V1_DISABLED", "true", 1);
	CHECK_HAS(resolve_err(NULL), "instance metadata: HTTP 403 for a session token (IMDSv1 "
				     "fallback disabled))");
	unsetenv("AWS_EC2_METADATA_V1_DISABLED");
	server_mode("ok");
}

TEST(imds_nothing_or_errors)
{
	use_imds();
	server_mode("norole");
	CHECK_HAS(resolve_err(NULL),
		  "no AWS credentials found for profile 'default' (tried "
		  "environment, shared credentials file, credential_process, config "
		  "file, container endpoint, instance metadata: no IAM role attached)");
	server_mode("fail");
	CHECK_HAS(resolve_err(NULL), "instance metadata: HTTP 500 for a session token)");
	server_mode("badjson");
	char want[200];
	snprintf(want, sizeof(want),
		 "instance metadata http://127.0.0.1:%d, role 'ja-test-role': "
		 "malformed credentials JSON (line 1, column ",
		 srv_port);
	CHECK_HAS(resolve_err(NULL), want);
	server_mode("failcode");
	CHECK_HAS(resolve_err(NULL), "Code is 'Failure', not 'Success'");
	server_mode("ok");
	/* nobody listening: nothing found, and the reason is in the message */
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", 1);
	const char *m = resolve_err(NULL);
	CHECK_HAS(m, "no AWS credentials found");
	CHECK_HAS(m, "instance metadata: http://127.0.0.1:1: ");
	setenv("AWS_METADATA_SERVICE_TIMEOUT", "soon", 1);
	CHECK_STR(resolve_err(NULL), "AWS_METADATA_SERVICE_TIMEOUT 'soon' is not a number from 1 "
				     "to 3600");
	unsetenv("AWS_METADATA_SERVICE_TIMEOUT");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv5", 1);
	CHECK_HAS(resolve_err(NULL), "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE 'IPv5' is not IPv4");
	unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "169.254.169.254", 1);
	CHECK_HAS(resolve_err(NULL), "is not an http URL");
}

static void skip(const char *name, const char *why)
{
	printf("ok %d - %s # skip %s\n", ++unit_n, name, why);
}

int main(int argc, char **argv)
{
	snprintf(dir, sizeof(dir), "/tmp/ja-creds-test.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	/* run from anywhere: the server script is found relative to the repository */
	if (access("tests/creds-server.py", R_OK) != 0 && argc > 0) {
		char *copy = strdup(argv[0]);
		if (chdir(dirname(copy)) == 0 && chdir("../../..") != 0)
			perror("chdir");
		free(copy);
	}
	RUN(parse_time);
	RUN(parse_time_rejects);
	RUN(ini_parsing);
	RUN(ini_last_profile_section_wins);
	RUN(ini_errors);
	RUN(default_paths_under_home);
	RUN(profile_selection);
	RUN(settings_precedence);
	RUN(max_attempts_checked);
	RUN(env_credentials);
	RUN(file_credentials);
	RUN(unsupported_profiles);
	RUN(nothing_found);
	RUN(process_credentials);
	RUN(process_errors);
	RUN(process_timeout);
	RUN(refresh_with_now);
	RUN(refresh_short_lived);
	if (server_start() == 0) {
		RUN(container_credentials);
		RUN(container_errors);
		RUN(container_hosts);
		RUN(container_refresh);
		RUN(imds_credentials);
		RUN(imds_nothing_or_errors);
	} else {
		const char *why = "python3 tests/creds-server.py did not start";
		skip("container_credentials", why);
		skip("container_errors", why);
		skip("container_hosts", why);
		skip("container_refresh", why);
		skip("imds_credentials", why);
		skip("imds_nothing_or_errors", why);
	}
	server_stop();
	rm_dir();
	return unit_done();
}
