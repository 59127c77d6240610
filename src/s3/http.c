/* http.c - libcurl: small blocking requests and the multi-handle transfer engine. */
#include "http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t http_once = PTHREAD_ONCE_INIT;

static void http_init_once(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die(EXIT_FAIL, "cannot initialise libcurl");
}

void http_global_init(void)
{
	pthread_once(&http_once, http_init_once);
}

static size_t simple_write(char *p, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;
	return buf_add(b, p, size * n) < 0 ? 0 : size * n;
}

int http_simple_fetch(const struct http_simple *rq, long *status, struct buf *body,
		      struct ja_err *err)
{
	http_global_init();
	CURL *h = curl_easy_init();
	if (!h)
		return err_set(err, EXIT_FAIL, "cannot create an HTTP handle");
	struct curl_slist *hl = NULL;
	for (const char *const *p = rq->headers; p && *p; p++)
		hl = curl_slist_append(hl, *p);
	hl = curl_slist_append(hl, "Expect:");
	size_t max = rq->max_body ? rq->max_body : (1u << 20);
	buf_release(body);
	body->max = max;
	curl_easy_setopt(h, CURLOPT_URL, rq->url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, rq->timeout_ms ? rq->timeout_ms : 5000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, simple_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	if (!strcmp(rq->method, "HEAD"))
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	if (rq->body || !strcmp(rq->method, "PUT") || !strcmp(rq->method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
	}
	CURLcode rc = curl_easy_perform(h);
	int ret = 0;
	if (rc != CURLE_OK) {
		if (body->over)
			ret = err_set(err, EXIT_FAIL, "%s: response larger than %zu bytes", rq->url, max);
		else
			ret = err_set(err, EXIT_FAIL, "%s: %s", rq->url, curl_easy_strerror(rc));
	} else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	}
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	return ret;
}
