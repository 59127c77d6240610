/* jakeys.h - names, keys, metadata and JSON of the Deadline Cloud job-attachments
 * layout (spec/FORMATS.md §3.2, §4.1, §4.3, §4.5, §5.1).
 *
 * Everything here is a pure function of its arguments except jakeys_guid (reads
 * getrandom) and jakeys_from_env (reads the environment).  Keys are relative to
 * the store root ("Manifests/..."): the store adds the bucket and root prefix.
 * Errors fill a struct ja_err: code 2 (EXIT_USAGE) for bad arguments (ids,
 * roots), code 1 for bad data read from a store (metadata).
 */
#ifndef JA_JAKEYS_H
#define JA_JAKEYS_H

#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "store.h"
#include "util.h"

#define JAKEYS_HASH_SIZE 33   /* 32 hex digits and a NUL */
#define JAKEYS_GUID_SIZE 33   /* uuid4().hex and a NUL */
#define JAKEYS_ISO_SIZE	 28   /* "2023-07-13T14:35:26.123456Z" and a NUL */
#define JAKEYS_ID_MAX	 256  /* bytes in one id; Deadline's are under 64 */
#define JAKEYS_META_MAX	 2048 /* S3: user metadata names + values, in bytes */

/* The Deadline ids that place a manifest.  Borrowed strings; NULL = not given. */
struct jakeys_ids {
	const char *farm, *queue, *job, *step, *task, *session_action;
};

/* --- names ----------------------------------------------------------------- */

/* The manifest name prefix of §3.2: xxh128 hex of UTF-8(location_name, NULL = "")
 * followed directly by root_path (no separator: "Share" + "/mnt/p"). */
void jakeys_name_hash(const char *location_name, const char *root_path, char out[JAKEYS_HASH_SIZE]);
/* A fresh random uuid4().hex (32 lowercase hex digits with the version 4 and
 * RFC 4122 variant bits set), from getrandom().  0, or -1 with err. */
int jakeys_guid(char out[JAKEYS_GUID_SIZE], struct ja_err *err);
/* unix_us (microseconds since the epoch, UTC) as "YYYY-MM-DDTHH:MM:SS.ffffffZ",
 * always six fractional digits (§4.1).  -1 with err (code 2) outside the years
 * 0001..9999 that Python's datetime can write. */
int jakeys_iso_time(int64_t unix_us, char out[JAKEYS_ISO_SIZE], struct ja_err *err);

/* --- keys ------------------------------------------------------------------ */

/* Is id usable as one key component?  Non-empty, at most JAKEYS_ID_MAX bytes,
 * printable ASCII (0x20..0x7e), no '/', not "." and no "..".  field names it in
 * the message ("farm id"): 0, or -1 with err (code 2). */
int jakeys_check_id(const char *field, const char *id, struct ja_err *err);
/* "Manifests/{farm}/{queue}/Inputs/{guid}/{name_hash}_input".  Caller frees;
 * NULL with err (code 2) when an argument fails jakeys_check_id. */
char *jakeys_input_manifest_key(const char *farm, const char *queue, const char *guid,
				const char *name_hash, struct ja_err *err);
/* "Manifests/{farm}/{queue}/{job}/{step}/{task}/{ISO}_{session_action}/{name_hash}_output"
 * with ISO = jakeys_iso_time(start_us) (the session action's start); without the
 * {task}/ component when ids->task is NULL (a step-level manifest).  farm, queue,
 * job, step and session_action are required.  Caller frees; NULL with err (code 2). */
char *jakeys_output_manifest_key(const struct jakeys_ids *ids, int64_t start_us,
				 const char *name_hash, struct ja_err *err);
/* The listing prefix of a job's outputs, "Manifests/{farm}/{queue}/{job}/", narrowed
 * to "{step}/" and "{task}/" when given (a task needs its step).  The session action
 * is not part of it (discovery picks the latest per task).  Caller frees; NULL with
 * err (code 2). */
char *jakeys_output_prefix(const struct jakeys_ids *ids, struct ja_err *err);
/* CreateJob's inputManifestPath for a manifest key: the part after "Manifests/"
 * (borrowed from key), or NULL when key is not under Manifests/. */
const char *jakeys_input_manifest_path(const char *key);

/* --- manifest object metadata (§4.3) -------------------------------------- */

/* The user metadata of an uploaded manifest: "asset-root" = root when it can travel
 * as an HTTP header value verbatim (printable ASCII, no leading or trailing space);
 * otherwise, as the Python 2025 code does for non-ASCII roots, BOTH "asset-root" and
 * "asset-root-json" = the JSON string of root with \uXXXX escapes, quotes included
 * ("/caf\u00e9" quoted).  location_name (NULL or "" = none) goes under
 * "file-system-location-name", or only under "file-system-location-name-json" when
 * it cannot travel verbatim (the generic K-json rule).  *out (n entries) is freed
 * with jakeys_meta_free.  -1 with err (code 2): empty root, invalid UTF-8, more than
 * JAKEYS_META_MAX bytes in all. */
int jakeys_asset_root_meta(const char *root, const char *location_name, struct store_meta **out,
			   size_t *n, struct ja_err *err);
void jakeys_meta_free(struct store_meta *meta, size_t n);
/* Metadata value name (borrowed list meta[0..n), names compared ignoring case):
 * "NAME-json" decoded from JSON wins over "NAME".  1 with *value (caller frees),
 * 0 when neither is there, -1 with err (code 1) when NAME-json is not one JSON
 * string (or holds \u0000). */
int jakeys_meta_value(const struct store_meta *meta, size_t n, const char *name, char **value,
		      struct ja_err *err);
/* The asset root of the manifest at key (named in messages): asset-root-json,
 * else asset-root.  0 with *root (caller frees); -1 with err (code 1):
 * "failed to get asset root from metadata of output manifest: KEY" when neither is
 * there or the root is empty. */
int jakeys_asset_root_from_meta(const struct store_meta *meta, size_t n, const char *key,
				char **root, struct ja_err *err);

/* --- CreateJob attachments (§5.1) ----------------------------------------- */

/* One ManifestProperties.  Strings borrowed, UTF-8. */
struct jakeys_manifest_props {
	const char *root_path;		       /* required, non-empty */
	const char *file_system_location_name; /* NULL or "" = omitted */
	const char *root_path_format;	       /* "posix" or "windows"; NULL = "posix" */
	const char *input_manifest_path;       /* NULL or "" = omitted */
	const char *input_manifest_hash;       /* NULL or "" = omitted */
	const char *const *output_dirs;	       /* relative, host separators; none = omitted */
	size_t n_output_dirs;
};

/* Append {"manifests":[...],"fileSystem":FS} to out: keys in the order of the
 * Python Attachments.to_dict (rootPath, fileSystemLocationName, rootPathFormat,
 * inputManifestPath, inputManifestHash, outputRelativeDirectories), empty ones
 * omitted (rootPath and rootPathFormat always there), compact separators and
 * ASCII-only escaping like every JSON ja writes, no newline.  file_system: "COPIED"
 * (NULL) or "VIRTUAL".  -1 with err (code 2) and out unchanged on a missing root,
 * an unknown format or file system, an empty output directory, invalid UTF-8. */
int jakeys_attachments_json(struct buf *out, const struct jakeys_manifest_props *m, size_t n,
			    const char *file_system, struct ja_err *err);

/* --- output discovery (§4.5) ---------------------------------------------- */

/* Choose, from the keys listed under an output prefix (borrowed), the output
 * manifests to download.  A key counts when its last three components are
 * TASK/SESSION/NAME with "task-" in TASK, SESSION non-empty and "output" in NAME
 * (the worker's layout: Python 2025's regex, "task-", two more components, "output",
 * but tied to the end of the key).  Per task folder (the key up to TASK) only the lexicographically
 * greatest SESSION ("{ISO}_{sessionActionId}": the latest start) is kept, with every
 * manifest in it.  Step-level manifests (no task folder) are ignored, as Python
 * does.  *sel (caller frees) gets the indexes of the chosen keys ordered oldest
 * first (by SESSION, then key; duplicates once), so that merging in that order lets
 * newer outputs win.  Returns how many. */
size_t jakeys_select_outputs(const char *const *keys, size_t n, size_t **sel);

/* --- worker environment ---------------------------------------------------- */

/* Fill the ids still NULL from DEADLINE_FARM_ID, DEADLINE_QUEUE_ID, DEADLINE_JOB_ID,
 * DEADLINE_STEP_ID, DEADLINE_TASK_ID and DEADLINE_SESSIONACTION_ID (empty variables
 * count as unset).  The strings belong to the environment. */
void jakeys_from_env(struct jakeys_ids *ids);

#endif
