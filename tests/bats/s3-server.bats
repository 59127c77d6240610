#!/usr/bin/env bats
# s3-server.bats - the S3 test infrastructure itself: the local server (tests/s3server),
# the aws CLI settings and the fault proxy (tests/faultproxy.py). Later S3 tests trust
# these, so each property they rely on is shown here, including that failures happen.

load helper
load s3-helper

setup_file() {
	s3_start
	proxy_start
	export OBJ="$BATS_FILE_TMPDIR/obj.bin" SMALL="$BATS_FILE_TMPDIR/small.bin"
	head -c 3000000 /dev/urandom >"$OBJ"
	head -c 300000 /dev/urandom >"$SMALL"
	s3curl -f -o /dev/null -T "$OBJ" "$S3_ENDPOINT/$S3_BUCKET/obj"
	s3curl -f -o /dev/null -T "$SMALL" "$S3_ENDPOINT/$S3_BUCKET/small"
}

teardown_file() {
	s3_stop
}

local_setup() {
	proxy_fault ''
	proxy_reset_stats
}

sha() { sha256sum "$@" | cut -d' ' -f1; }
now_ms() { date +%s%3N; }

# code URL [CURL-ARGS...]: the HTTP status of a plain (unsigned) request
code() {
	local url=$1
	shift
	curl -sS -o /dev/null -w '%{http_code}' "$@" "$url"
}

@test "the server answers on 127.0.0.1 with bucket ja-test; the environment is isolated" {
	assert_eq "$(code "$S3_ENDPOINT/")" 200 "anonymous ListBuckets"
	assert_eq "$(code "$S3_ENDPOINT/$S3_BUCKET" -I)" 200 "HEAD configured bucket"
	assert_eq "$(code "$S3_ENDPOINT/no-such-bucket" -I)" 404 "HEAD missing bucket"
	assert_eq "$S3_ENDPOINT" "http://127.0.0.1:$S3_PORT"
	assert_eq "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY:$AWS_REGION" S3RVER:S3RVER:us-east-1
	[[ "$HOME" == "$S3_TMP"/* && "$AWS_CONFIG_FILE" == "$S3_TMP"/* ]]
	[[ "$AWS_SHARED_CREDENTIALS_FILE" == "$S3_TMP"/* ]]
	[ -z "${AWS_PROFILE:-}" ]
	[ -f "$S3_DATA/$S3_BUCKET/obj._S3rver_object" ]
}

@test "aws s3api put-object/head-object/get-object round-trip bytes and x-amz-meta-*" {
	local md5 out
	md5=$(md5sum <"$SMALL" | cut -d' ' -f1)
	run_split awscli s3api put-object --bucket "$S3_BUCKET" --key 'dir/a b.bin' --body "$SMALL" \
		--metadata color=blue,shape=round
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	[[ "$output" == *"\\\"$md5\\\""* ]] || { echo "put ETag: $output" >&2; false; }
	run_split awscli s3api head-object --bucket "$S3_BUCKET" --key 'dir/a b.bin'
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	out=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["ContentLength"], d["Metadata"]["color"], d["Metadata"]["shape"])' <<<"$output")
	assert_eq "$out" "300000 blue round"
	run_split awscli s3api get-object --bucket "$S3_BUCKET" --key 'dir/a b.bin' "$T/got"
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	assert_files_equal "$T/got" "$SMALL"
	# the metadata is on the wire as x-amz-meta-* headers
	curl -sS -I "$S3_ENDPOINT/$S3_BUCKET/dir/a%20b.bin" | tr -d '\r' >"$T/h"
	grep -qix 'x-amz-meta-color: blue' "$T/h" || { cat "$T/h" >&2; false; }
}

@test "listings with max-keys below the object count page through every key" {
	local i url token keys=0 pages=0
	for i in 1 2 3 4 5; do
		s3curl -f -o /dev/null --data-binary "$i" -X PUT "$S3_ENDPOINT/$S3_BUCKET/page/k$i"
	done
	url="$S3_ENDPOINT/$S3_BUCKET?list-type=2&prefix=page/&max-keys=2"
	token=
	while :; do
		curl -sS -f "$url${token:+&continuation-token=$token}" >"$T/l.xml"
		pages=$((pages + 1))
		keys=$((keys + $(grep -o '<Key>' "$T/l.xml" | wc -l)))
		grep -q '<IsTruncated>true</IsTruncated>' "$T/l.xml" || break
		token=$(python3 -c 'import re,sys,urllib.parse as u; print(u.quote(re.search("<NextContinuationToken>([^<]*)<", sys.stdin.read()).group(1), safe=""))' <"$T/l.xml")
		[ "$pages" -lt 10 ] || { echo "listing does not end" >&2; false; }
	done
	assert_eq "$pages/$keys" "3/5" "pages/keys with max-keys=2"
	# the CLI follows NextContinuationToken the same way
	run_split awscli s3api list-objects-v2 --bucket "$S3_BUCKET" --prefix page/ --page-size 2 \
		--query 'Contents[].Key' --output text
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; false; }
	assert_eq "$(tr -s '\t ' '\n\n' <<<"$output" | sort | tr '\n' ' ')" "page/k1 page/k2 page/k3 page/k4 page/k5 "
}

# aws CLI run with a wrong secret (the rest of the awscli settings unchanged)
wrong_secret_awscli() { AWS_SECRET_ACCESS_KEY=wrong awscli "$@"; }

@test "signatures are checked: a wrong secret or key id is refused" {
	local sign=(curl -sS -w '\n%{http_code}' --aws-sigv4 aws:amz:us-east-1:s3 -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD')
	run_split "${sign[@]}" --user S3RVER:S3RVER -o /dev/null "$S3_ENDPOINT/$S3_BUCKET/small"
	assert_eq "$output" $'\n200' "the right secret"
	run_split "${sign[@]}" --user S3RVER:wrong "$S3_ENDPOINT/$S3_BUCKET/small"
	[[ "$output" == *"<Code>SignatureDoesNotMatch</Code>"* && "$output" == *$'\n403' ]] || { echo "$output" >&2; false; }
	run_split "${sign[@]}" --user NOBODY:S3RVER "$S3_ENDPOINT/$S3_BUCKET/small"
	[[ "$output" == *"<Code>InvalidAccessKeyId</Code>"* && "$output" == *$'\n403' ]] || { echo "$output" >&2; false; }
	run_split wrong_secret_awscli s3api get-object --bucket "$S3_BUCKET" --key small "$T/x"
	[ "$status" -ne 0 ] && [[ "$stderr" == *SignatureDoesNotMatch* ]] || { echo "status $status: $stderr" >&2; false; }
	[ ! -e "$T/x" ]
}

@test "proxy: pass-through is byte-exact for GET and PUT, signatures survive, keep-alive works" {
	local md5
	curl -sS -f "$PROXY_ENDPOINT/$S3_BUCKET/obj" -o "$T/got"
	assert_eq "$(sha "$T/got")" "$(sha "$OBJ")" "GET through the proxy"
	curl -sS -f -T "$OBJ" -o /dev/null "$PROXY_ENDPOINT/$S3_BUCKET/put-plain"
	cmp "$S3_DATA/$S3_BUCKET/put-plain._S3rver_object" "$OBJ"
	s3curl -f -T "$OBJ" -o /dev/null "$PROXY_ENDPOINT/$S3_BUCKET/put-signed"
	cmp "$S3_DATA/$S3_BUCKET/put-signed._S3rver_object" "$OBJ"
	curl -sS -f -T - -o /dev/null "$PROXY_ENDPOINT/$S3_BUCKET/put-chunked" <"$SMALL"
	cmp "$S3_DATA/$S3_BUCKET/put-chunked._S3rver_object" "$SMALL"
	# bodiless responses (HEAD, 304) and a GET, one after the other on one connection
	md5=$(md5sum <"$SMALL" | cut -d' ' -f1)
	curl -sS -f --max-time 10 -I -o "$T/h" "$PROXY_ENDPOINT/$S3_BUCKET/obj" \
		--next -sS --max-time 10 -o /dev/null -w '%{http_code} ' -H "If-None-Match: \"$md5\"" \
		"$PROXY_ENDPOINT/$S3_BUCKET/small" \
		--next -sS -f --max-time 10 -o "$T/a" -w '%{http_code}' "$PROXY_ENDPOINT/$S3_BUCKET/small" >"$T/codes"
	assert_eq "$(cat "$T/codes")" "304 200"
	grep -qix 'content-length: 3000000' <(tr -d '\r' <"$T/h")
	cmp "$T/a" "$SMALL"
	assert_eq "$(proxy_stat passthrough)/$(proxy_stat injected)" "7/0"
	assert_eq "$(proxy_stat connections)" 5 "the last three requests share one connection"
}

@test "proxy: 500 InternalError once, then 200; 503 SlowDown only for PUT" {
	[ "$(code "$PROXY_ENDPOINT/$S3_BUCKET/small")" = 200 ]
	proxy_fault 500
	curl -sS -o "$T/err" -w '%{http_code}' "$PROXY_ENDPOINT/$S3_BUCKET/small" >"$T/code"
	assert_eq "$(cat "$T/code")" 500
	grep -q '<Code>InternalError</Code>' "$T/err"
	assert_eq "$(code "$PROXY_ENDPOINT/$S3_BUCKET/small")" 200 "after the fault"
	proxy_fault '503,method=PUT'
	assert_eq "$(code "$PROXY_ENDPOINT/$S3_BUCKET/small")" 200 "GET is not filtered in"
	curl -sS -T "$SMALL" -o "$T/err" -w '%{http_code}' "$PROXY_ENDPOINT/$S3_BUCKET/p503" >"$T/code"
	assert_eq "$(cat "$T/code")" 503
	grep -q '<Code>SlowDown</Code>' "$T/err"
	[ ! -e "$S3_DATA/$S3_BUCKET/p503._S3rver_object" ]
	assert_eq "$(code "$PROXY_ENDPOINT/$S3_BUCKET/p503" -T "$SMALL")" 200 "the retried PUT"
	assert_eq "$(proxy_stat injected.500)/$(proxy_stat injected.503)/$(proxy_stat passthrough)" "1/1/4"
}

@test "proxy: every=K and path= select the requests" {
	local got=
	proxy_fault '500,every=2,path=/ja-test/small'
	for _ in 1 2 3 4; do got+="$(code "$PROXY_ENDPOINT/$S3_BUCKET/small") "; done
	assert_eq "$got" "200 500 200 500 "
	assert_eq "$(code "$PROXY_ENDPOINT/$S3_BUCKET/obj")" 200 "other path"
	assert_eq "$(proxy_stat injected.500)" 2
	run proxy_fault 'reset,n=0'
	[ "$status" -ne 0 ] && [[ "$output" == *"n must be a positive integer"* ]]
	run proxy_fault 'explode'
	[ "$status" -ne 0 ] && [[ "$output" == *"unknown fault kind"* ]]
}

@test "proxy: reset and truncate break the first GET mid-body, the retry succeeds" {
	proxy_fault reset
	run curl -sS -o "$T/part" "$PROXY_ENDPOINT/$S3_BUCKET/obj"
	[ "$status" -eq 56 ] && [[ "$output" == *"reset by peer"* ]] || { echo "$status $output" >&2; false; }
	[ "$(stat -c %s "$T/part")" -lt 3000000 ]
	curl -sS -f -o "$T/got" "$PROXY_ENDPOINT/$S3_BUCKET/obj"
	assert_eq "$(sha "$T/got")" "$(sha "$OBJ")"

	proxy_fault 'truncate,after=1000000'
	run curl -sS -o "$T/part" "$PROXY_ENDPOINT/$S3_BUCKET/obj"
	[ "$status" -eq 18 ] && [[ "$output" == *"2000000 bytes remaining"* ]] || { echo "$status $output" >&2; false; }
	assert_eq "$(stat -c %s "$T/part")" 1000000
	cmp -n 1000000 "$T/part" "$OBJ"
	curl -sS -f -o "$T/got" "$PROXY_ENDPOINT/$S3_BUCKET/obj"
	assert_eq "$(sha "$T/got")" "$(sha "$OBJ")"
	assert_eq "$(proxy_stat injected.reset)/$(proxy_stat injected.truncate)" "1/1"
}

@test "proxy: stall makes a client time out; stall,half sends half then closes" {
	local t0 t1
	proxy_fault 'stall:30'
	t0=$(now_ms)
	run curl -sS -o /dev/null --max-time 2 "$PROXY_ENDPOINT/$S3_BUCKET/small"
	t1=$(now_ms)
	[ "$status" -eq 28 ] || { echo "$status $output" >&2; false; }
	[ $((t1 - t0)) -ge 1900 ]
	proxy_fault 'stall:1,half'
	run curl -sS -o "$T/part" "$PROXY_ENDPOINT/$S3_BUCKET/small"
	[ "$status" -eq 18 ] || { echo "$status $output" >&2; false; }
	assert_eq "$(stat -c %s "$T/part")" 150000
	assert_eq "$(code "$PROXY_ENDPOINT/$S3_BUCKET/small" --max-time 5)" 200 "after the stalls"
	assert_eq "$(proxy_stat injected.stall)" 2
}

@test "proxy: trickle slows a transfer to about BPS bytes/s" {
	local t0 t1
	proxy_fault 'trickle:200000'
	t0=$(now_ms)
	curl -sS -f -o "$T/got" "$PROXY_ENDPOINT/$S3_BUCKET/small"
	t1=$(now_ms)
	cmp "$T/got" "$SMALL"
	# 300000 bytes at 200000 B/s: 1.5 s (less one 10 KB step)
	[ $((t1 - t0)) -ge 1400 ] || { echo "took $((t1 - t0)) ms" >&2; false; }
	t0=$(now_ms)
	curl -sS -f -o /dev/null "$PROXY_ENDPOINT/$S3_BUCKET/small"
	t1=$(now_ms)
	[ $((t1 - t0)) -lt 1400 ] || { echo "second transfer took $((t1 - t0)) ms" >&2; false; }
	assert_eq "$(proxy_stat injected.trickle)/$(proxy_stat passthrough)" "1/1"
}

@test "proxy: reset-upload breaks the first PUT mid-body, the retry stores the object" {
	proxy_fault 'reset-upload,method=PUT'
	run curl -sS -T "$OBJ" -o /dev/null "$PROXY_ENDPOINT/$S3_BUCKET/up"
	[ "$status" -eq 55 ] || [ "$status" -eq 56 ] || { echo "$status $output" >&2; false; }
	[[ "$output" == *"reset by peer"* ]] || { echo "$output" >&2; false; }
	assert_eq "$(code "$S3_ENDPOINT/$S3_BUCKET/up" -I)" 404 "nothing was stored"
	assert_eq "$(code "$PROXY_ENDPOINT/$S3_BUCKET/up" -T "$OBJ")" 200 "the retried PUT"
	cmp "$S3_DATA/$S3_BUCKET/up._S3rver_object" "$OBJ"
	assert_eq "$(proxy_stat injected.reset-upload)/$(proxy_stat forwarded)" "1/1"
}

@test "proxy: control requests are answered locally and never forwarded" {
	assert_eq "$(code "$PROXY_ENDPOINT/__faultproxy/nothing")" 404
	proxy_stats_json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["requests"] == 0, d'
	assert_eq "$(proxy_stat requests)/$(proxy_stat forwarded)" "0/0"
	[ ! -e "$S3_DATA/__faultproxy" ]
}

@test "the server and the proxy exit when the shell that started them dies" {
	local s p i
	(
		unset S3_PID PROXY_PID
		s3_start >/dev/null && proxy_start >/dev/null || exit 1
		echo "$S3_PID $PROXY_PID" >"$T/pids"
	)
	read -r s p <"$T/pids"
	for ((i = 0; i < 60; i++)); do
		_s3h_alive "$s" || _s3h_alive "$p" || break
		sleep 0.1
	done
	! _s3h_alive "$s" || { echo "server $s still running" >&2; kill -- "-$s"; false; }
	! _s3h_alive "$p" || { echo "proxy $p still running" >&2; kill -- "-$p"; false; }
}
