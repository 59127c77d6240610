/* s3err.c - S3 replies into one actionable line, and response headers into an op. */
#include "s3int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *op_name(const struct s3_op *op)
{
	switch (op->kind) {
	case S3_HEAD:
		return "HeadObject";
	case S3_GET:
		return "GetObject";
	case S3_PUT:
		return "PutObject";
	case S3_DELETE:
		return "DeleteObject";
	case S3_LIST:
		return "ListObjectsV2";
	case S3_MPU_CREATE:
		return "CreateMultipartUpload";
	case S3_MPU_PART:
		return "UploadPart";
	case S3_MPU_COMPLETE:
		return "CompleteMultipartUpload";
	case S3_MPU_ABORT:
		return "AbortMultipartUpload";
	}
	return "request";
}

/* The IAM permission an operation needs. */
static const char *permission(const struct s3_op *op)
{
	switch (op->kind) {
	case S3_HEAD:
	case S3_GET:
		return "s3:GetObject";
	case S3_LIST:
		return "s3:ListBucket";
	case S3_DELETE:
		return "s3:DeleteObject";
	case S3_MPU_ABORT:
		return "s3:AbortMultipartUpload";
	default:
		return "s3:PutObject";
	}
}

static int mentions_kms(const char *m)
{
	return strstr(m, "KMS") || strstr(m, "kms");
}

void s3_error_line(struct s3_client *c, struct s3_op *op, const struct s3_error_info *ei,
		   struct ja_err *err)
{
	const struct http_xfer *x = op->internal ? &((struct op_state *)op->internal)->x : NULL;
	char where[1400];
	if (op->kind == S3_LIST)
		snprintf(where, sizeof(where), "s3://%s/%s", op->bucket,
			 op->prefix ? esc_name(op->prefix) : "");
	else
		snprintf(where, sizeof(where), "s3://%s/%s", op->bucket,
			 op->key ? esc_name(op->key) : "");
	const char *code = ei->code;
	long st = op->status;
	const char *name = op_name(op);
	op->not_found = st == 404;
	if (x && x->failed) {
		err_set(err, EXIT_FAIL, "%s %s: %s%s", name, where, x->err_msg,
			x->timed_out ? " (timed out)" : "");
		return;
	}
	if (err->msg[0] && !code[0] && st >= 200 && st < 300)
		return; /* a message set while reading a good status (bad XML) */
	if (!strcmp(code, "NoSuchBucket"))
		err_set(err, EXIT_FAIL, "%s %s: bucket '%s' does not exist", name, where,
			op->bucket);
	else if (!strcmp(code, "NoSuchKey") || (st == 404 && op->kind == S3_HEAD))
		err_set(err, EXIT_FAIL, "%s %s: no such object", name, where);
	else if (st == 412 && op->kind == S3_GET)
		err_set(err, EXIT_FAIL, "%s %s: the object changed while it was being downloaded",
			name, where);
	else if (!strcmp(code, "NoSuchUpload"))
		err_set(err, EXIT_FAIL, "%s %s: the multipart upload no longer exists", name,
			where);
	else if (!strcmp(code, "AccessDenied") || (st == 403 && !code[0])) {
		const char *kms = "";
		if (mentions_kms(ei->message))
			kms = op->kind == S3_GET || op->kind == S3_HEAD
				  ? "; the bucket's KMS key also needs kms:Decrypt"
				  : "; the bucket's KMS key also needs kms:GenerateDataKey and "
				    "kms:Decrypt";
		const char *head = op->kind == S3_HEAD
				       ? " (and s3:ListBucket, without which a missing object "
					 "also answers 403)"
				       : "";
		char owner[160] = "";
		if (c->owner)
			snprintf(owner, sizeof(owner),
				 ", or the bucket is not owned by account %s (expected bucket "
				 "owner)",
				 c->owner);
		err_set(err, EXIT_FAIL, "%s %s: access denied: needs %s%s%s%s", name, where,
			permission(op), head, kms, owner);
	} else if (!strcmp(code, "InvalidAccessKeyId"))
		err_set(err, EXIT_FAIL,
			"%s %s: the AWS access key id is not known to the service "
			"(check the credentials)",
			name, where);
	else if (!strcmp(code, "SignatureDoesNotMatch"))
		err_set(err, EXIT_FAIL,
			"%s %s: signature does not match: the secret access key is wrong for this "
			"access key id",
			name, where);
	else if (!strcmp(code, "ExpiredToken") || !strcmp(code, "InvalidToken"))
		err_set(err, EXIT_FAIL, "%s %s: the session token has expired or is invalid", name,
			where);
	else if (!strcmp(code, "RequestTimeTooSkewed"))
		err_set(err, EXIT_FAIL, "%s %s: the local clock is too far from S3's", name, where);
	else if (!strcmp(code, "PermanentRedirect") || st == 301 ||
		 !strcmp(code, "AuthorizationHeaderMalformed"))
		err_set(err, EXIT_FAIL, "%s %s: wrong region %s for the bucket%s%s", name, where,
			c->region, ei->region[0] ? "; it is in " : "", ei->region);
	else if (code[0])
		err_set(err, EXIT_FAIL, "%s %s: %s: %s (HTTP %ld)", name, where, code,
			ei->message[0] ? ei->message : "no message", st);
	else
		err_set(err, EXIT_FAIL, "%s %s: HTTP %ld", name, where, st);
}

static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!s || !*s)
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return *s ? -1 : 0;
}

void s3_take_headers(struct s3_op *op, const struct http_xfer *x, uint64_t *total)
{
	uint64_t n;
	char *v;
	if (total) {
		if ((v = http_xfer_header(x, "content-range"))) {
			const char *slash = strrchr(v, '/');
			if (slash && parse_u64(slash + 1, &n) == 0)
				*total = n;
			free(v);
		} else if ((v = http_xfer_header(x, "content-length"))) {
			if (parse_u64(v, &n) == 0)
				*total = n;
			free(v);
		}
		op->size = *total;
	}
	if ((v = http_xfer_header(x, "last-modified"))) {
		free(op->last_modified);
		op->last_modified = v;
	}
	if ((v = http_xfer_header(x, "content-type"))) {
		free(op->content_type_out);
		op->content_type_out = v;
	}
	for (size_t i = 0; i < op->nmeta_out; i++) {
		free(op->meta_out[i].name);
		free(op->meta_out[i].value);
	}
	op->nmeta_out = 0;
	size_t cap = 0;
	for (const char *p = x->resp_headers; p && *p;) {
		const char *eol = strchr(p, '\n');
		if (!eol)
			break;
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		if (colon && colon - p > 11 && !strncmp(p, "x-amz-meta-", 11)) {
			xgrow((void **)&op->meta_out, &cap, op->nmeta_out + 1,
			      sizeof(*op->meta_out));
			struct s3_meta *m = &op->meta_out[op->nmeta_out++];
			m->name = xstrndup(p + 11, (size_t)(colon - p) - 11);
			const char *val = colon + 1;
			while (val < eol && *val == ' ')
				val++;
			m->value = xstrndup(val, (size_t)(eol - val));
		}
		p = eol + 1;
	}
}
