/* creds.c - AWS credentials: botocore's provider chain, cached and refreshed.
 *
 * Each provider answers 1 (credentials), 0 (not configured here, try the next) or
 * -1 (configured but broken: stop, as botocore does, rather than fall through to
 * another identity).  Secret keys and tokens are wiped before their memory is freed
 * and never formatted into a message.
 */
#include "creds_int.h"
#include "core/json.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* botocore's advisory refresh: new credentials this long before the old ones expire. */
#define REFRESH_WINDOW (15 * 60)
/* After a failed refresh the old, still valid credentials serve this long before the
 * next attempt, so a broken endpoint is not asked again on every request. */
#define RETRY_AFTER	   60
#define PROCESS_TIMEOUT_MS 120000L
#define PROCESS_MAX_OUTPUT (64 * 1024)

struct creds_chain {
	char *profile;
	struct aws_creds cur;
	int have;
	int64_t refresh_at; /* resolve again from then on; 0 = never */
	int64_t retry_at;   /* a refresh failed: keep cur until then */
	long process_timeout_ms;
};

static const struct creds_names env_names = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
					     "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION"};
static const struct creds_names file_names = {"aws_access_key_id", "aws_secret_access_key",
					      "aws_session_token", NULL};
static const struct creds_names process_names = {"AccessKeyId", "SecretAccessKey", "SessionToken",
						 "Expiration"};
const struct creds_names creds_endpoint_names = {"AccessKeyId", "SecretAccessKey", "Token",
						 "Expiration"};

/* ---- time -------------------------------------------------------------------------- */

static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int expect(const char **p, char c)
{
	if (**p != c)
		return -1;
	(*p)++;
	return 0;
}

/* Days since 1970-01-01, proleptic Gregorian.  Shifting the year to start in March
 * puts the leap day last, so each 400-year era is plain arithmetic. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const unsigned char dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return dm[m - 1] + (m == 2 && leap);
}

static int parse_zone(const char **p, int *offset)
{
	int sign, oh, om;
	*offset = 0;
	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		return 0;
	}
	if (**p != '+' && **p != '-')
		return -1;
	sign = **p == '-' ? -1 : 1;
	(*p)++;
	if (digits(p, 2, &oh))
		return -1;
	if (**p == ':')
		(*p)++;
	if (digits(p, 2, &om) || oh > 23 || om > 59)
		return -1;
	*offset = sign * (oh * 3600 + om * 60);
	return 0;
}

int aws_parse_time(const char *s, int64_t *t)
{
	int y, mo, d, h, mi, sec, off;
	const char *p = s;
	if (digits(&p, 4, &y) || expect(&p, '-') || digits(&p, 2, &mo) || expect(&p, '-') ||
	    digits(&p, 2, &d))
		return -1;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (digits(&p, 2, &h) || expect(&p, ':') || digits(&p, 2, &mi) || expect(&p, ':') ||
	    digits(&p, 2, &sec))
		return -1;
	if (*p == '.') {
		if (*++p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (parse_zone(&p, &off) || *p)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
		return -1;
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	return 0;
}

static const char *fmt_time(int64_t t)
{
	static char out[32];
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, sizeof(out), "%lld", (long long)t);
	return out;
}

/* ---- credentials ------------------------------------------------------------------- */

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void creds_wipe_buf(struct buf *b)
{
	if (b->len)
		explicit_bzero(b->p, b->len);
	buf_release(b);
}

static void creds_clear(struct aws_creds *c)
{
	free(c->access_key);
	wipe_free(c->secret_key);
	wipe_free(c->session_token);
	memset(c, 0, sizeof(*c));
}

/* Credentials go into headers and the signature: a space or control byte would
 * corrupt the request, so anything outside printable ASCII is refused. */
int creds_value_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static int creds_fill(struct aws_creds *c, const char *source, const struct creds_names *nm,
		      const char *key, const char *secret, const char *token, const char *exp,
		      struct ja_err *err)
{
	int64_t t = 0;
	if (token && !*token)
		token = NULL;
	if (exp && !*exp)
		exp = NULL;
	if (!key || !secret)
		return err_set(err, EXIT_FAIL, "%s is missing", key ? nm->secret : nm->key);
	if (!creds_value_ok(key) || !creds_value_ok(secret) || (token && !creds_value_ok(token)))
		return err_set(err, EXIT_FAIL, "%s is empty or not printable ASCII",
			       !creds_value_ok(key)	 ? nm->key
			       : !creds_value_ok(secret) ? nm->secret
							 : nm->token);
	if (exp && aws_parse_time(exp, &t) < 0)
		return err_set(err, EXIT_FAIL, "%s '%s' is not an RFC 3339 time", nm->expiration,
			       esc_name(exp));
	c->access_key = xstrdup(key);
	c->secret_key = xstrdup(secret);
	c->session_token = token ? xstrdup(token) : NULL;
	c->expires = t;
	c->source = source;
	return 0;
}

/* A JSON credentials document, its strings copied out of the parser. */
struct doc {
	char *v[4]; /* key, secret, token, expiration */
	char *code;
	int64_t version;
	int has_version;
};

static void doc_free(struct doc *d)
{
	for (int i = 0; i < 4; i++)
		wipe_free(d->v[i]);
	free(d->code);
}

static int key_is(const char *k, size_t n, const char *name)
{
	return name && strlen(name) == n && !memcmp(k, name, n);
}

static int doc_field(struct jp *jp, struct doc *d, const struct creds_names *nm, const char *k,
		     size_t n)
{
	const char *names[4] = {nm->key, nm->secret, nm->token, nm->expiration};
	char **slot = key_is(k, n, "Code") ? &d->code : NULL;
	for (int i = 0; i < 4 && !slot; i++)
		if (key_is(k, n, names[i]))
			slot = &d->v[i];
	if (key_is(k, n, "Version")) {
		d->has_version = 1;
		if (jp_peek(jp) != J_NUM)
			return err_set(jp->err, EXIT_FAIL, "Version is not a number");
		return jp_int(jp, &d->version);
	}
	if (!slot || jp_peek(jp) == J_NULL)
		return jp_skip(jp);
	const char *s;
	size_t len;
	if (jp_str(jp, &s, &len) < 0)
		return -1;
	*slot = xstrndup(s, len);
	return 0;
}

/* The parser's message can quote a byte of the input, which may be a secret: keep
 * only its "line L, column C". */
static int doc_syntax_error(const struct ja_err *je, struct ja_err *err)
{
	const char *colon = strstr(je->msg, ": ");
	if (strncmp(je->msg, "line ", 5) || !colon)
		return err_set(err, EXIT_FAIL, "%s", je->msg);
	return err_set(err, EXIT_FAIL, "malformed credentials JSON (%.*s)", (int)(colon - je->msg),
		       je->msg);
}

static int doc_parse(const char *body, size_t len, const struct creds_names *nm, struct doc *d,
		     struct ja_err *err)
{
	struct ja_err je = {0};
	struct jp jp;
	const char *k;
	size_t n;
	int r;
	jp_init(&jp, body, len, &je);
	r = jp_obj_begin(&jp);
	while (r == 0 && (r = jp_obj_key(&jp, &k, &n)) > 0)
		r = doc_field(&jp, d, nm, k, n) < 0 ? -1 : 0;
	if (r == 0)
		r = jp_finish(&jp);
	if (jp.str.len)
		explicit_bzero(jp.str.p, jp.str.len);
	jp_release(&jp);
	return r < 0 ? doc_syntax_error(&je, err) : 0;
}

int creds_from_doc(const struct buf *body, const struct creds_names *nm, int versioned,
		   const char *source, struct aws_creds *c, struct ja_err *err)
{
	struct doc d = {0};
	int r = doc_parse(body->p, body->len, nm, &d, err);
	if (!r && versioned && !d.has_version)
		r = err_set(err, EXIT_FAIL, "Version is missing (expected 1)");
	else if (!r && versioned && d.version != 1)
		r = err_set(err, EXIT_FAIL, "Version %lld is not supported (expected 1)",
			    (long long)d.version);
	if (!r && d.code && strcmp(d.code, "Success"))
		r = err_set(err, EXIT_FAIL, "Code is '%s', not 'Success'", esc_name(d.code));
	if (!r)
		r = creds_fill(c, source, nm, d.v[0], d.v[1], d.v[2], d.v[3], err);
	doc_free(&d);
	return r;
}

/* ---- environment, files, unsupported profile kinds --------------------------------- */

static int from_env(struct creds_ctx *x, struct aws_creds *c, struct ja_err *err)
{
	const char *key = aws_env("AWS_ACCESS_KEY_ID"), *secret = aws_env("AWS_SECRET_ACCESS_KEY");
	const char *token = aws_env("AWS_SESSION_TOKEN");
	if (!key && !secret)
		return 0;
	if (!key || !secret)
		return err_set(err, EXIT_USAGE, "%s is set but %s is not",
			       key ? env_names.key : env_names.secret,
			       key ? env_names.secret : env_names.key);
	if (!token)
		token = aws_env("AWS_SECURITY_TOKEN");
	if (creds_fill(c, "environment", &env_names, key, secret, token,
		       aws_env("AWS_CREDENTIAL_EXPIRATION"), err) < 0) {
		err_prefix(err, "environment");
		return -1;
	}
	return 1;
}

static int from_profile_keys(struct creds_ctx *x, enum aws_scope scope, const char *source,
			     struct aws_creds *c, struct ja_err *err)
{
	const char *key = aws_profile_get(x->f, scope, x->profile, "aws_access_key_id");
	const char *secret = aws_profile_get(x->f, scope, x->profile, "aws_secret_access_key");
	const char *token = aws_profile_get(x->f, scope, x->profile, "aws_session_token");
	const char *file = scope == AWS_SCOPE_CONFIG ? aws_files_config_name(x->f)
						     : aws_files_credentials_name(x->f);
	if (!key && !secret)
		return 0;
	if (!token)
		token = aws_profile_get(x->f, scope, x->profile, "aws_security_token");
	if (creds_fill(c, source, &file_names, key, secret, token, NULL, err) < 0) {
		err_prefix(err, "profile '%s' in %s", esc_name(x->profile), esc_name(file));
		err->code = EXIT_USAGE;
		return -1;
	}
	return 1;
}

static int from_credentials_file(struct creds_ctx *x, struct aws_creds *c, struct ja_err *err)
{
	return from_profile_keys(x, AWS_SCOPE_CREDENTIALS, "shared-credentials-file", c, err);
}

static int from_config_file(struct creds_ctx *x, struct aws_creds *c, struct ja_err *err)
{
	return from_profile_keys(x, AWS_SCOPE_CONFIG, "config-file", c, err);
}

/* botocore would assume a role, use IAM Identity Center or web identity here, ahead
 * of the files' keys.  Falling through instead would sign with another identity. */
static int refuse_unsupported(struct creds_ctx *x, struct aws_creds *c, struct ja_err *err)
{
	static const char *const keys[][2] = {
	    {"role_arn", "assume role"},
	    {"source_profile", "assume role"},
	    {"credential_source", "assume role"},
	    {"web_identity_token_file", "web identity"},
	    {"sso_session", "IAM Identity Center"},
	    {"sso_start_url", "IAM Identity Center"},
	    {"sso_account_id", "IAM Identity Center"},
	    {"sso_role_name", "IAM Identity Center"},
	};
	const char *p = esc_name(x->profile);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (aws_profile_get(x->f, AWS_SCOPE_MERGED, x->profile, keys[i][0]))
			return err_set(
			    err, EXIT_USAGE,
			    "profile '%s' uses %s (%s), which ja does not support; a "
			    "profile with credential_process = aws configure "
			    "export-credentials --profile %s --format process can stand in",
			    p, keys[i][0], keys[i][1], p);
	if (aws_env("AWS_WEB_IDENTITY_TOKEN_FILE"))
		return err_set(err, EXIT_USAGE,
			       "AWS_WEB_IDENTITY_TOKEN_FILE is set (web identity), which ja does "
			       "not support");
	return 0;
}

/* ---- credential_process ------------------------------------------------------------ */

enum run_end { RUN_EOF, RUN_TIMEOUT, RUN_TOO_BIG, RUN_IO_ERROR };

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void creds_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static enum run_end read_until(int fd, struct buf *out, int64_t deadline)
{
	char chunk[4096];
	enum run_end end;
	for (;;) {
		int64_t left = deadline - mono_ms();
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (left <= 0) {
			end = RUN_TIMEOUT;
			break;
		}
		int n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n <= 0) {
			if (n < 0 && errno != EINTR) {
				end = RUN_IO_ERROR;
				break;
			}
			continue;
		}
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			end = r ? RUN_IO_ERROR : RUN_EOF;
			break;
		}
		if (buf_add(out, chunk, (size_t)r) < 0) {
			end = RUN_TOO_BIG;
			break;
		}
	}
	explicit_bzero(chunk, sizeof(chunk));
	return end;
}

/* Reap pid, killing it at the deadline: a process that closed stdout may still hang. */
static enum run_end reap(pid_t pid, int *status, int64_t deadline, enum run_end end)
{
	if (end != RUN_EOF)
		kill(pid, SIGKILL);
	for (;;) {
		pid_t r = waitpid(pid, status, end == RUN_EOF ? WNOHANG : 0);
		if (r == pid)
			return end;
		if (r < 0 && errno != EINTR)
			return RUN_IO_ERROR;
		if (r == 0 && mono_ms() >= deadline) {
			kill(pid, SIGKILL);
			end = RUN_TIMEOUT;
		} else if (r == 0) {
			creds_sleep_ms(2);
		}
	}
}

/* /bin/sh -c CMD with stdin and stderr inherited, so a helper can prompt for MFA on
 * the terminal.  For the same reason it stays in our process group (a background
 * group would be stopped on reading the tty): a timeout kills the shell, not what the
 * shell started, which then dies of SIGPIPE when it writes. */
static int run_process(const char *cmd, long timeout_ms, struct buf *out, struct ja_err *err)
{
	int fds[2], status = 0;
	pid_t pid;
	char *argv[] = {"sh", "-c", (char *)cmd, NULL};
	posix_spawn_file_actions_t fa;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return err_set(err, EXIT_FAIL, "cannot create a pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	int rc = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc) {
		close(fds[0]);
		return err_set(err, EXIT_FAIL, "cannot run /bin/sh: %s", strerror(rc));
	}
	int64_t deadline = mono_ms() + timeout_ms;
	enum run_end end = read_until(fds[0], out, deadline);
	close(fds[0]);
	end = reap(pid, &status, deadline, end);
	if (end == RUN_TIMEOUT)
		return err_set(err, EXIT_FAIL, "did not finish within %ld ms", timeout_ms);
	if (end == RUN_TOO_BIG)
		return err_set(err, EXIT_FAIL, "wrote more than %d KiB", PROCESS_MAX_OUTPUT / 1024);
	if (end == RUN_IO_ERROR)
		return err_set(err, EXIT_FAIL, "cannot read its output");
	if (WIFSIGNALED(status))
		return err_set(err, EXIT_FAIL, "was killed by signal %d", WTERMSIG(status));
	if (WEXITSTATUS(status))
		return err_set(err, EXIT_FAIL, "exited with status %d", WEXITSTATUS(status));
	return 0;
}

static int from_process(struct creds_ctx *x, struct aws_creds *c, struct ja_err *err)
{
	const char *cmd = aws_profile_get(x->f, AWS_SCOPE_MERGED, x->profile, "credential_process");
	struct buf out;
	if (!cmd)
		return 0;
	buf_init(&out, PROCESS_MAX_OUTPUT);
	int r = run_process(cmd, x->process_timeout_ms, &out, err);
	if (r == 0)
		r = creds_from_doc(&out, &process_names, 1, "credential-process", c, err);
	creds_wipe_buf(&out);
	if (r < 0) {
		err_prefix(err, "credential_process of profile '%s'", esc_name(x->profile));
		return -1;
	}
	return 1;
}

/* ---- the chain --------------------------------------------------------------------- */

typedef int (*provider_fn)(struct creds_ctx *x, struct aws_creds *c, struct ja_err *err);

static const provider_fn chain[] = {from_env,	    refuse_unsupported, from_credentials_file,
				    from_process,   from_config_file,	creds_from_container,
				    creds_from_imds};

static int resolve(struct creds_chain *ch, int64_t now, struct aws_creds *c, struct ja_err *err)
{
	struct creds_ctx x = {.profile = ch->profile, .process_timeout_ms = ch->process_timeout_ms};
	int r = 0;
	x.f = aws_files_load(err);
	if (!x.f)
		return -1;
	for (size_t i = 0; r == 0 && i < sizeof(chain) / sizeof(chain[0]); i++)
		r = chain[i](&x, c, err);
	if (r == 0)
		r = err_set(
		    err, EXIT_FAIL,
		    "no AWS credentials found for profile '%s' (tried environment, shared "
		    "credentials file, credential_process, config file, container endpoint, "
		    "instance metadata: %s)",
		    esc_name(ch->profile), x.imds_note);
	else if (r > 0 && c->expires && c->expires <= now)
		r = err_set(err, EXIT_FAIL, "credentials from %s expired at %s", c->source,
			    fmt_time(c->expires));
	aws_files_free(x.f);
	if (r < 0)
		creds_clear(c);
	return r < 0 ? -1 : 0;
}

/* Normally REFRESH_WINDOW before expiry; short-lived credentials (a 15-minute STS
 * session) are refreshed half-way instead, or every call would resolve again. */
static int64_t refresh_time(int64_t expires, int64_t now)
{
	int64_t left = expires - now, margin = left / 2;
	if (!expires)
		return 0;
	return expires - (margin < REFRESH_WINDOW ? margin : REFRESH_WINDOW);
}

struct creds_chain *creds_chain_new(const char *profile)
{
	struct creds_chain *c = xcalloc(1, sizeof(*c));
	c->profile = xstrdup(profile && *profile ? profile : "default");
	c->process_timeout_ms = PROCESS_TIMEOUT_MS;
	return c;
}

void creds_chain_set_process_timeout(struct creds_chain *c, long ms)
{
	c->process_timeout_ms = ms > 0 ? ms : PROCESS_TIMEOUT_MS;
}

const struct aws_creds *creds_get(struct creds_chain *c, int64_t now, struct ja_err *err)
{
	struct aws_creds fresh = {0};
	struct ja_err e = {0};
	if (c->have && (!c->refresh_at || now < c->refresh_at))
		return &c->cur;
	if (c->have && now < c->retry_at && now < c->cur.expires)
		return &c->cur;
	if (resolve(c, now, &fresh, &e) == 0) {
		creds_clear(&c->cur);
		c->cur = fresh;
		c->have = 1;
		c->refresh_at = refresh_time(fresh.expires, now);
		c->retry_at = 0;
		return &c->cur;
	}
	if (c->have && now < c->cur.expires) {
		c->retry_at = now + RETRY_AFTER;
		return &c->cur;
	}
	creds_invalidate(c);
	if (err)
		*err = e;
	return NULL;
}

void creds_invalidate(struct creds_chain *c)
{
	creds_clear(&c->cur);
	c->have = 0;
	c->refresh_at = c->retry_at = 0;
}

void creds_chain_free(struct creds_chain *c)
{
	if (!c)
		return;
	creds_invalidate(c);
	free(c->profile);
	free(c);
}
