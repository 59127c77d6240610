/* s3_test.c - the S3 client's pure parts: addressing, dates, backoff, URLs, errors. */
#include "s3/s3int.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

static struct s3_client *client(const char *endpoint, const char *region)
{
	struct ja_err err = {0};
	setenv("AWS_CONFIG_FILE", "/nonexistent/ja-test-config", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/ja-test-credentials", 1);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_S3");
	unsetenv("JA_EXPECTED_BUCKET_OWNER");
	struct s3_config cfg = {.endpoint_url = endpoint, .region = region};
	struct s3_client *c = s3_client_new(&cfg, &err);
	if (!c)
		printf("# s3_client_new: %s\n", err.msg);
	return c;
}

static void check_address(struct s3_client *c, const char *bucket, const char *key,
			  const char *host, const char *path, const char *url)
{
	char *h, *p;
	struct buf u = BUF_INIT;
	s3_address(c, bucket, key, &h, &p, &u);
	CHECK_STR(h, host);
	CHECK_STR(p, path);
	CHECK_STR(u.p, url);
	free(h);
	free(p);
	buf_release(&u);
}

TEST(virtual_hosted_on_aws)
{
	struct s3_client *c = client(NULL, "eu-west-1");
	CHECK(c != NULL);
	if (!c)
		return;
	check_address(c, "my-bucket", "Data/ab.xxh128", "my-bucket.s3.eu-west-1.amazonaws.com",
		      "/Data/ab.xxh128",
		      "https://my-bucket.s3.eu-west-1.amazonaws.com/Data/ab.xxh128");
	/* keys are encoded once, '/' kept, nothing normalised */
	check_address(c, "my-bucket", "a b/../c//d+é", "my-bucket.s3.eu-west-1.amazonaws.com",
		      "/a b/../c//d+é",
		      "https://my-bucket.s3.eu-west-1.amazonaws.com/a%20b/../c//d%2B%C3%A9");
	/* a bucket with dots cannot be a TLS-valid host label: path style */
	check_address(c, "my.bucket", "k", "s3.eu-west-1.amazonaws.com", "/my.bucket/k",
		      "https://s3.eu-west-1.amazonaws.com/my.bucket/k");
	/* listing: the bucket itself */
	check_address(c, "my-bucket", NULL, "my-bucket.s3.eu-west-1.amazonaws.com", "/",
		      "https://my-bucket.s3.eu-west-1.amazonaws.com/");
	CHECK_STR(s3_client_region(c), "eu-west-1");
	s3_client_free(c);
}

TEST(path_style_on_custom_endpoints)
{
	struct s3_client *c = client("http://127.0.0.1:4568", "us-east-1");
	CHECK(c != NULL);
	if (!c)
		return;
	check_address(c, "b", "x y", "127.0.0.1:4568", "/b/x y", "http://127.0.0.1:4568/b/x%20y");
	s3_client_free(c);
	/* a default port is not part of the Host header curl sends */
	c = client("https://minio.example:443/prefix/", NULL);
	CHECK(c != NULL);
	if (!c)
		return;
	check_address(c, "b", "k", "minio.example", "/prefix/b/k",
		      "https://minio.example:443/prefix/b/k");
	CHECK_STR(s3_client_region(c), "us-east-1");
	s3_client_free(c);
}

TEST(bad_endpoints_are_usage_errors)
{
	struct ja_err err = {0};
	struct s3_config cfg = {.endpoint_url = "ftp://x"};
	CHECK(s3_client_new(&cfg, &err) == NULL);
	CHECK(err.code == EXIT_USAGE);
	cfg.endpoint_url = "http://";
	CHECK(s3_client_new(&cfg, &err) == NULL);
	CHECK(strstr(err.msg, "no host") != NULL);
}

TEST(http_dates)
{
	int64_t t = 0;
	CHECK(s3_parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT", &t) == 0);
	CHECK(t == 1440938160);
	CHECK(s3_parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT", &t) == 0);
	CHECK(t == 0);
	CHECK(s3_parse_http_date("Tue, 29 Feb 2028 23:59:59 GMT", &t) == 0);
	CHECK(t == 1835481599);
	CHECK(s3_parse_http_date("Tue, 29 Foo 2028 23:59:59 GMT", &t) < 0);
	CHECK(s3_parse_http_date("garbage", &t) < 0);
	CHECK(s3_parse_http_date(NULL, &t) < 0);
}

TEST(backoff_is_jittered_capped_and_growing)
{
	setenv("JA_RETRY_BASE_MS", "500", 1);
	struct s3_client *c = client("http://127.0.0.1:1", NULL);
	CHECK(c != NULL);
	if (!c)
		return;
	double max1 = 0, max3 = 0, max20 = 0, min1 = 1e9;
	for (int i = 0; i < 2000; i++) {
		double a = s3_backoff_ms(c, 1), b = s3_backoff_ms(c, 3), d = s3_backoff_ms(c, 20);
		CHECK(a >= 0 && a < 500);
		CHECK(b >= 0 && b < 2000);
		CHECK(d >= 0 && d <= 20000);
		max1 = a > max1 ? a : max1;
		min1 = a < min1 ? a : min1;
		max3 = b > max3 ? b : max3;
		max20 = d > max20 ? d : max20;
	}
	/* full jitter spreads over the whole window */
	CHECK(min1 < 50 && max1 > 450);
	CHECK(max3 > 1800);
	CHECK(max20 > 18000);
	s3_client_free(c);
	unsetenv("JA_RETRY_BASE_MS");
}

TEST(s3_urls)
{
	char *b = NULL, *k = NULL;
	struct ja_err err = {0};
	CHECK(s3_parse_url("s3://bucket/a/b c", &b, &k, &err) == 0);
	CHECK_STR(b, "bucket");
	CHECK_STR(k, "a/b c");
	free(b);
	free(k);
	CHECK(s3_parse_url("s3://bucket", &b, &k, &err) == 0);
	CHECK_STR(k, "");
	free(b);
	free(k);
	CHECK(s3_parse_url("s3:///k", &b, &k, &err) < 0);
	CHECK(err.code == EXIT_USAGE);
	CHECK(s3_parse_url("https://bucket/k", &b, &k, &err) < 0);
}

static void check_error(const char *code, long status, enum s3_kind kind, const char *owner,
			const char *message, const char *want)
{
	struct s3_client *c = client("http://127.0.0.1:1", NULL);
	if (!c)
		return;
	if (owner)
		c->owner = strdup(owner);
	struct s3_op op = {.kind = kind, .bucket = "b", .key = "Data/k", .status = status};
	struct s3_error_info ei;
	memset(&ei, 0, sizeof(ei));
	snprintf(ei.code, sizeof(ei.code), "%s", code);
	snprintf(ei.message, sizeof(ei.message), "%s", message ? message : "");
	struct ja_err err = {0};
	s3_error_line(c, &op, &ei, &err);
	if (!strstr(err.msg, want)) {
		printf("# '%s' does not contain '%s'\n", err.msg, want);
		CHECK(0);
	}
	CHECK(!strchr(err.msg, '\n'));
	s3_client_free(c);
}

TEST(error_lines_are_actionable)
{
	check_error("AccessDenied", 403, S3_GET, NULL, NULL,
		    "GetObject s3://b/Data/k: access denied: needs s3:GetObject");
	check_error("AccessDenied", 403, S3_PUT, NULL, "KMS key", "kms:GenerateDataKey");
	check_error("AccessDenied", 403, S3_GET, NULL, "denied by kms", "kms:Decrypt");
	check_error("", 403, S3_HEAD, NULL, NULL, "s3:ListBucket");
	check_error("AccessDenied", 403, S3_LIST, "111122223333", NULL,
		    "not owned by account 111122223333");
	check_error("NoSuchBucket", 404, S3_GET, NULL, NULL, "bucket 'b' does not exist");
	check_error("NoSuchKey", 404, S3_GET, NULL, NULL, "no such object");
	check_error("", 404, S3_HEAD, NULL, NULL, "no such object");
	check_error("InvalidAccessKeyId", 403, S3_GET, NULL, NULL, "access key id is not known");
	check_error("SignatureDoesNotMatch", 403, S3_PUT, NULL, NULL, "secret access key is wrong");
	check_error("RequestTimeTooSkewed", 403, S3_PUT, NULL, NULL, "clock");
	check_error("PermanentRedirect", 301, S3_GET, NULL, NULL, "wrong region");
	check_error("Weird", 418, S3_GET, NULL, "teapot", "Weird: teapot (HTTP 418)");
}

TEST(part_sizes_keep_under_ten_thousand_parts)
{
	uint64_t mib = 1 << 20;
	CHECK(s3_part_size(100 * mib, 16 * mib) == 16 * mib);
	CHECK(s3_part_size(100 * mib, 1 * mib) == 8 * mib); /* S3's floor is 5 MiB; ja's 8 */
	uint64_t lens[] = {160000 * mib, 160000 * mib + 1, (uint64_t)1 << 40, S3_MAX_OBJECT,
			   S3_MAX_OBJECT - 1};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint64_t ps = s3_part_size(lens[i], 16 * mib);
		CHECK(ps % mib == 0);
		CHECK((lens[i] + ps - 1) / ps <= S3_MAX_PARTS);
		CHECK(ps <= (uint64_t)5 << 30); /* S3's largest part */
	}
	CHECK(s3_part_size(160000 * mib, 16 * mib) == 16 * mib);
	CHECK(s3_part_size(160000 * mib + 1, 16 * mib) == 17 * mib);
}

int main(void)
{
	RUN(virtual_hosted_on_aws);
	RUN(path_style_on_custom_endpoints);
	RUN(bad_endpoints_are_usage_errors);
	RUN(http_dates);
	RUN(backoff_is_jittered_capped_and_growing);
	RUN(s3_urls);
	RUN(error_lines_are_actionable);
	RUN(part_sizes_keep_under_ten_thousand_parts);
	return unit_done();
}
