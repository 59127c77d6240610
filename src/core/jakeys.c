/* jakeys.c - the Deadline Cloud names, keys, metadata and attachments JSON. */
#include "jakeys.h"
#include "hash.h"
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#define MANIFESTS "Manifests/"

/* ---- names --------------------------------------------------------------------------- */

void jakeys_name_hash(const char *location_name, const char *root_path, char out[JAKEYS_HASH_SIZE])
{
	struct buf b = BUF_INIT;
	buf_adds(&b, location_name ? location_name : "");
	buf_adds(&b, root_path ? root_path : "");
	hash_mem_hex(b.p, b.len, out);
	buf_release(&b);
}

int jakeys_guid(char out[JAKEYS_GUID_SIZE], struct ja_err *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[16];
	size_t got = 0;
	while (got < sizeof(r)) {
		ssize_t k = getrandom(r + got, sizeof(r) - got, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return err_set(err, EXIT_FAIL, "getrandom: %s", strerror(errno));
		got += (size_t)k;
	}
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* variant 10xx */
	for (size_t i = 0; i < sizeof(r); i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[32] = 0;
	return 0;
}

int jakeys_iso_time(int64_t unix_us, char out[JAKEYS_ISO_SIZE], struct ja_err *err)
{
	/* floor division: a time before 1970 still has 0..999999 microseconds */
	int64_t sec = unix_us / 1000000, us = unix_us % 1000000;
	struct tm tm;
	time_t t;
	if (us < 0) {
		us += 1000000;
		sec--;
	}
	t = (time_t)sec;
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999)
		return err_set(err, EXIT_USAGE, "time %lld us is outside the years 1 to 9999",
			       (long long)unix_us);
	/* a roomy buffer: the compiler cannot see that every field has its width */
	char tmp[96];
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)us);
	memcpy(out, tmp, JAKEYS_ISO_SIZE - 1);
	out[JAKEYS_ISO_SIZE - 1] = 0;
	return 0;
}

/* ---- keys ---------------------------------------------------------------------------- */

int jakeys_check_id(const char *field, const char *id, struct ja_err *err)
{
	size_t n = id ? strnlen(id, JAKEYS_ID_MAX + 1) : 0;
	if (!n)
		return err_set(err, EXIT_USAGE, "missing %s", field);
	if (n > JAKEYS_ID_MAX)
		return err_set(err, EXIT_USAGE, "%s is too long (more than %d bytes)", field,
			       JAKEYS_ID_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)id[i];
		if (c < 0x20 || c > 0x7e)
			return err_set(err, EXIT_USAGE, "bad %s '%s': not printable ASCII", field,
				       esc_name(id));
		if (c == '/')
			return err_set(err, EXIT_USAGE, "bad %s '%s': '/' is not allowed", field,
				       esc_name(id));
	}
	/* no '/' means no path, but a local store maps keys to files: keep "." and ".." out */
	if (!strcmp(id, ".") || strstr(id, ".."))
		return err_set(err, EXIT_USAGE, "bad %s '%s': '.' and '..' are not allowed", field,
			       esc_name(id));
	return 0;
}

char *jakeys_input_manifest_key(const char *farm, const char *queue, const char *guid,
				const char *name_hash, struct ja_err *err)
{
	struct buf b = BUF_INIT;
	if (jakeys_check_id("farm id", farm, err) < 0 ||
	    jakeys_check_id("queue id", queue, err) < 0 || jakeys_check_id("guid", guid, err) < 0 ||
	    jakeys_check_id("name hash", name_hash, err) < 0)
		return NULL;
	buf_addf(&b, MANIFESTS "%s/%s/Inputs/%s/%s_input", farm, queue, guid, name_hash);
	return buf_detach(&b, NULL);
}

/* Check and append "{farm}/{queue}/{job}/" to b. */
static int add_job(struct buf *b, const struct jakeys_ids *ids, struct ja_err *err)
{
	if (jakeys_check_id("farm id", ids->farm, err) < 0 ||
	    jakeys_check_id("queue id", ids->queue, err) < 0 ||
	    jakeys_check_id("job id", ids->job, err) < 0)
		return -1;
	buf_addf(b, "%s/%s/%s/", ids->farm, ids->queue, ids->job);
	return 0;
}

char *jakeys_output_manifest_key(const struct jakeys_ids *ids, int64_t start_us,
				 const char *name_hash, struct ja_err *err)
{
	struct buf b = BUF_INIT;
	char iso[JAKEYS_ISO_SIZE];
	buf_adds(&b, MANIFESTS);
	if (add_job(&b, ids, err) < 0 || jakeys_check_id("step id", ids->step, err) < 0 ||
	    (ids->task && jakeys_check_id("task id", ids->task, err) < 0) ||
	    jakeys_check_id("session action id", ids->session_action, err) < 0 ||
	    jakeys_check_id("name hash", name_hash, err) < 0 ||
	    jakeys_iso_time(start_us, iso, err) < 0) {
		buf_release(&b);
		return NULL;
	}
	buf_addf(&b, "%s/", ids->step);
	if (ids->task)
		buf_addf(&b, "%s/", ids->task);
	buf_addf(&b, "%s_%s/%s_output", iso, ids->session_action, name_hash);
	return buf_detach(&b, NULL);
}

char *jakeys_output_prefix(const struct jakeys_ids *ids, struct ja_err *err)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, MANIFESTS);
	if (add_job(&b, ids, err) < 0)
		goto fail;
	if (ids->task && !ids->step) {
		err_set(err, EXIT_USAGE, "a task id needs its step id");
		goto fail;
	}
	if (ids->step) {
		if (jakeys_check_id("step id", ids->step, err) < 0)
			goto fail;
		buf_addf(&b, "%s/", ids->step);
	}
	if (ids->task) {
		if (jakeys_check_id("task id", ids->task, err) < 0)
			goto fail;
		buf_addf(&b, "%s/", ids->task);
	}
	return buf_detach(&b, NULL);
fail:
	buf_release(&b);
	return NULL;
}

const char *jakeys_input_manifest_path(const char *key)
{
	size_t n = strlen(MANIFESTS);
	return key && !strncmp(key, MANIFESTS, n) && key[n] ? key + n : NULL;
}

/* ---- metadata ------------------------------------------------------------------------ */

/* Can s travel as an HTTP header value unchanged?  Only printable ASCII does, and
 * S3 (like any HTTP hop) trims spaces at either end. */
static int header_safe(const char *s)
{
	size_t n = strlen(s);
	if (n && (s[0] == ' ' || s[n - 1] == ' '))
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

static char *json_string(const char *s)
{
	struct buf b = BUF_INIT;
	json_put_str(&b, s, strlen(s));
	return buf_detach(&b, NULL);
}

static void meta_add(struct store_meta *m, size_t *n, const char *name, char *value)
{
	m[*n].name = xstrdup(name);
	m[*n].value = value;
	(*n)++;
}

int jakeys_asset_root_meta(const char *root, const char *location_name, struct store_meta **out,
			   size_t *n, struct ja_err *err)
{
	struct store_meta *m;
	size_t k = 0, total = 0;
	*out = NULL;
	*n = 0;
	if (!root || !*root)
		return err_set(err, EXIT_USAGE, "empty asset root");
	if (!utf8_valid(root, strlen(root)))
		return err_set(err, EXIT_USAGE, "asset root '%s' is not valid UTF-8",
			       esc_name(root));
	if (location_name && !utf8_valid(location_name, strlen(location_name)))
		return err_set(err, EXIT_USAGE, "file system location name '%s' is not valid UTF-8",
			       esc_name(location_name));
	m = xcalloc(3, sizeof(*m));
	if (header_safe(root)) {
		meta_add(m, &k, "asset-root", xstrdup(root));
	} else {
		/* both: readers older than asset-root-json still find a root (escaped) */
		meta_add(m, &k, "asset-root", json_string(root));
		meta_add(m, &k, "asset-root-json", json_string(root));
	}
	if (location_name && *location_name) {
		if (header_safe(location_name))
			meta_add(m, &k, "file-system-location-name", xstrdup(location_name));
		else
			meta_add(m, &k, "file-system-location-name-json",
				 json_string(location_name));
	}
	for (size_t i = 0; i < k; i++)
		total += strlen(m[i].name) + strlen(m[i].value);
	if (total > JAKEYS_META_MAX) {
		jakeys_meta_free(m, k);
		return err_set(err, EXIT_USAGE,
			       "asset root too long for S3 metadata (%zu bytes, at most %d)", total,
			       JAKEYS_META_MAX);
	}
	*out = m;
	*n = k;
	return 0;
}

void jakeys_meta_free(struct store_meta *meta, size_t n)
{
	for (size_t i = 0; meta && i < n; i++) {
		free(meta[i].name);
		free(meta[i].value);
	}
	free(meta);
}

static const char *meta_find(const struct store_meta *meta, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (meta[i].name && meta[i].value && !strcasecmp(meta[i].name, name))
			return meta[i].value;
	return NULL;
}

/* One JSON string, nothing around it (but whitespace): its bytes, caller frees. */
static char *json_decode_string(const char *doc, struct ja_err *err)
{
	struct jp jp;
	const char *s;
	size_t len;
	char *r = NULL;
	jp_init(&jp, doc, strlen(doc), err);
	if (jp_peek(&jp) != J_STR)
		jp_fail(&jp, "not a JSON string");
	else if (jp_str(&jp, &s, &len) == 0 && jp_finish(&jp) == 0)
		r = xstrndup(s, len);
	jp_release(&jp);
	return r;
}

int jakeys_meta_value(const struct store_meta *meta, size_t n, const char *name, char **value,
		      struct ja_err *err)
{
	struct buf jname = BUF_INIT;
	const char *v;
	*value = NULL;
	buf_addf(&jname, "%s-json", name);
	v = meta_find(meta, n, jname.p);
	if (v) {
		*value = json_decode_string(v, err);
		if (!*value) {
			err_prefix(err, "bad %s metadata", jname.p);
			if (err)
				err->code =
				    EXIT_FAIL; /* bad data in the store, not a bad argument */
		}
		buf_release(&jname);
		return *value ? 1 : -1;
	}
	buf_release(&jname);
	v = meta_find(meta, n, name);
	if (!v)
		return 0;
	*value = xstrdup(v);
	return 1;
}

int jakeys_asset_root_from_meta(const struct store_meta *meta, size_t n, const char *key,
				char **root, struct ja_err *err)
{
	int rc = jakeys_meta_value(meta, n, "asset-root", root, err);
	if (rc < 0) {
		err_prefix(err, "output manifest %s", esc_name(key));
		return -1;
	}
	if (rc == 0 || !**root) {
		free(*root);
		*root = NULL;
		return err_set(err, EXIT_FAIL,
			       "failed to get asset root from metadata of output manifest: %s",
			       esc_name(key));
	}
	return 0;
}

/* ---- attachments --------------------------------------------------------------------- */

static int check_str(const char *what, const char *s, int may_be_empty, struct ja_err *err)
{
	if (!s || (!*s && !may_be_empty))
		return err_set(err, EXIT_USAGE, "attachments: empty %s", what);
	if (!utf8_valid(s, strlen(s)))
		return err_set(err, EXIT_USAGE, "attachments: %s '%s' is not valid UTF-8", what,
			       esc_name(s));
	return 0;
}

static int check_props(const struct jakeys_manifest_props *p, struct ja_err *err)
{
	const char *fmt = p->root_path_format;
	if (check_str("rootPath", p->root_path, 0, err) < 0)
		return -1;
	if (fmt && strcmp(fmt, "posix") && strcmp(fmt, "windows"))
		return err_set(err, EXIT_USAGE,
			       "attachments: rootPathFormat '%s' is neither posix nor windows",
			       esc_name(fmt));
	if ((p->file_system_location_name &&
	     check_str("fileSystemLocationName", p->file_system_location_name, 1, err) < 0) ||
	    (p->input_manifest_path &&
	     check_str("inputManifestPath", p->input_manifest_path, 1, err) < 0) ||
	    (p->input_manifest_hash &&
	     check_str("inputManifestHash", p->input_manifest_hash, 1, err) < 0))
		return -1;
	for (size_t i = 0; i < p->n_output_dirs; i++)
		if (check_str("output directory", p->output_dirs[i], 0, err) < 0)
			return -1;
	return 0;
}

/* ,"key":"value" when value is not empty. */
static void put_opt(struct buf *out, const char *key, const char *value)
{
	if (!value || !*value)
		return;
	buf_addf(out, ",\"%s\":", key);
	json_put_str(out, value, strlen(value));
}

static void put_props(struct buf *out, const struct jakeys_manifest_props *p)
{
	buf_adds(out, "{\"rootPath\":");
	json_put_str(out, p->root_path, strlen(p->root_path));
	put_opt(out, "fileSystemLocationName", p->file_system_location_name);
	put_opt(out, "rootPathFormat", p->root_path_format ? p->root_path_format : "posix");
	put_opt(out, "inputManifestPath", p->input_manifest_path);
	put_opt(out, "inputManifestHash", p->input_manifest_hash);
	if (p->n_output_dirs) {
		buf_adds(out, ",\"outputRelativeDirectories\":[");
		for (size_t i = 0; i < p->n_output_dirs; i++) {
			if (i)
				buf_addc(out, ',');
			json_put_str(out, p->output_dirs[i], strlen(p->output_dirs[i]));
		}
		buf_addc(out, ']');
	}
	buf_addc(out, '}');
}

int jakeys_attachments_json(struct buf *out, const struct jakeys_manifest_props *m, size_t n,
			    const char *file_system, struct ja_err *err)
{
	const char *fs = file_system ? file_system : "COPIED";
	if (strcmp(fs, "COPIED") && strcmp(fs, "VIRTUAL"))
		return err_set(err, EXIT_USAGE,
			       "attachments: fileSystem '%s' is neither COPIED nor VIRTUAL",
			       esc_name(fs));
	for (size_t i = 0; i < n; i++)
		if (check_props(&m[i], err) < 0)
			return -1;
	buf_adds(out, "{\"manifests\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addc(out, ',');
		put_props(out, &m[i]);
	}
	buf_addf(out, "],\"fileSystem\":\"%s\"}", fs);
	return 0;
}

/* ---- output discovery ---------------------------------------------------------------- */

struct cand {
	size_t idx;
	const char *key;
	size_t folder_len; /* the task folder: key[0..folder_len) */
	const char *sess;  /* the session folder */
	size_t sess_len;
};

static int has_sub(const char *s, size_t n, const char *sub)
{
	size_t m = strlen(sub);
	for (size_t i = 0; i + m <= n; i++)
		if (!memcmp(s + i, sub, m))
			return 1;
	return 0;
}

/* TASK/SESSION/NAME at the end of key, as jakeys_select_outputs describes. */
static int parse_output_key(const char *key, struct cand *c)
{
	const char *name = strrchr(key, '/'), *sess, *task;
	if (!name || name == key)
		return 0;
	sess = name;
	while (sess > key && sess[-1] != '/')
		sess--;
	if (sess == key || name == sess)
		return 0; /* no task component before it, or an empty session folder */
	task = sess - 1;
	while (task > key && task[-1] != '/')
		task--;
	name++;
	if (!has_sub(task, (size_t)(sess - 1 - task), "task-") ||
	    !has_sub(name, strlen(name), "output"))
		return 0;
	c->key = key;
	c->folder_len = (size_t)(sess - 1 - key);
	c->sess = sess;
	c->sess_len = (size_t)(name - 1 - sess);
	return 1;
}

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
	int r = memcmp(a, b, an < bn ? an : bn);
	return r ? r : (an > bn) - (an < bn);
}

/* Task folder ascending, then session folder descending: each group starts with its latest. */
static int cmp_group(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;
	int r = cmp_bytes(a->key, a->folder_len, b->key, b->folder_len);
	return r ? r : cmp_bytes(b->sess, b->sess_len, a->sess, a->sess_len);
}

/* Oldest session folder first, then key, then input position. */
static int cmp_time(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;
	int r = cmp_bytes(a->sess, a->sess_len, b->sess, b->sess_len);
	if (!r)
		r = strcmp(a->key, b->key);
	return r ? r : (a->idx > b->idx) - (a->idx < b->idx);
}

size_t jakeys_select_outputs(const char *const *keys, size_t n, size_t **sel)
{
	struct cand *c = xcalloc(n ? n : 1, sizeof(*c));
	size_t nc = 0, nk = 0, out = 0;
	for (size_t i = 0; i < n; i++)
		if (keys[i] && parse_output_key(keys[i], &c[nc]))
			c[nc++].idx = i;
	qsort(c, nc, sizeof(*c), cmp_group);
	/* keep the head of each task folder's group and its session mates, in place */
	for (size_t j = 0; j < nc;) {
		struct cand head = c[j];
		while (j < nc && !cmp_bytes(c[j].key, c[j].folder_len, head.key, head.folder_len) &&
		       !cmp_bytes(c[j].sess, c[j].sess_len, head.sess, head.sess_len))
			c[nk++] = c[j++];
		while (j < nc && !cmp_bytes(c[j].key, c[j].folder_len, head.key, head.folder_len))
			j++;
	}
	qsort(c, nk, sizeof(*c), cmp_time);
	*sel = xmalloc((nk ? nk : 1) * sizeof(**sel));
	for (size_t i = 0; i < nk; i++)
		if (!i || strcmp(c[i].key, c[i - 1].key))
			(*sel)[out++] = c[i].idx;
	free(c);
	return out;
}

/* ---- worker environment -------------------------------------------------------------- */

static void from_env(const char **field, const char *var)
{
	const char *v;
	if (!*field && (v = getenv(var)) && *v)
		*field = v;
}

void jakeys_from_env(struct jakeys_ids *ids)
{
	from_env(&ids->farm, "DEADLINE_FARM_ID");
	from_env(&ids->queue, "DEADLINE_QUEUE_ID");
	from_env(&ids->job, "DEADLINE_JOB_ID");
	from_env(&ids->step, "DEADLINE_STEP_ID");
	from_env(&ids->task, "DEADLINE_TASK_ID");
	from_env(&ids->session_action, "DEADLINE_SESSIONACTION_ID");
}
