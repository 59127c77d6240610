#!/usr/bin/env bats
# The S3 client under injected faults (tests/faultproxy.py between ja and the
# server): every fault either heals within the retry limit with intact data, or
# ends in one clear error line; nothing hangs, nothing loops.
load helper
load s3-helper

setup_file() {
	s3_start
	proxy_start --log-headers "$BATS_FILE_TMPDIR/headers.log"
	export AWS_ENDPOINT_URL_S3="$PROXY_ENDPOINT"
	export JA_RETRY_BASE_MS=50 JA_STALL_TIMEOUT_MS=2000
	head -c $((3 * 1024 * 1024)) /dev/urandom >"$BATS_FILE_TMPDIR/obj"
	head -c $((20 * 1024 * 1024)) /dev/urandom >"$BATS_FILE_TMPDIR/big"
}

teardown_file() { s3_stop; }

local_setup() {
	proxy_fault ''
	proxy_reset_stats
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# roundtrip KEY FILE: upload, download, compare
roundtrip() {
	run_split ja-s3 -v cp "$2" "s3://$S3_BUCKET/$1"
	[ "$status" -eq 0 ] || { echo "upload: $stderr" >&2; return 1; }
	run_split ja-s3 -v cp "s3://$S3_BUCKET/$1" "$T/back"
	[ "$status" -eq 0 ] || { echo "download: $stderr" >&2; return 1; }
	assert_eq "$(sha "$T/back")" "$(sha "$2")"
}

injected() { # injected KIND: at least one injection of KIND happened
	local n
	n=$(proxy_stat "injected.$1") || return 1
	[ "$n" -ge 1 ] || { echo "no $1 fault was injected" >&2; proxy_stats >&2; return 1; }
}

@test "500 InternalError on upload and download is retried" {
	proxy_fault '500,n=2'
	roundtrip f500 "$BATS_FILE_TMPDIR/obj"
	[ "$(proxy_stat injected.500)" -eq 2 ]
}

@test "503 SlowDown is retried with backoff" {
	proxy_fault '503,n=3'
	roundtrip f503 "$BATS_FILE_TMPDIR/obj"
	injected 503
}

@test "a connection reset in the middle of a download resumes where it stopped" {
	ja-s3 cp "$BATS_FILE_TMPDIR/obj" "s3://$S3_BUCKET/freset"
	proxy_fault 'reset,n=2,method=GET'
	run_split ja-s3 -vv cp "s3://$S3_BUCKET/freset" "$T/back"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	assert_eq "$(sha "$T/back")" "$(sha "$BATS_FILE_TMPDIR/obj")"
	injected reset
	# the retry asked only for the bytes still missing
	grep -qE "GET s3://$S3_BUCKET/freset: ok, 0 B out, [0-9]+ B in" <<<"$stderr"
	in=$(grep -oE "GET s3://$S3_BUCKET/freset: ok, 0 B out, [0-9]+" <<<"$stderr" | grep -oE '[0-9]+$')
	[ "$in" -lt $((3 * 1024 * 1024)) ]
}

@test "a truncated body is detected and fetched again" {
	ja-s3 cp "$BATS_FILE_TMPDIR/obj" "s3://$S3_BUCKET/ftrunc"
	proxy_fault 'truncate,n=2,method=GET'
	run_split ja-s3 cp "s3://$S3_BUCKET/ftrunc" "$T/back"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	assert_eq "$(sha "$T/back")" "$(sha "$BATS_FILE_TMPDIR/obj")"
	injected truncate
}

@test "a stalled response is abandoned after the stall timeout and retried" {
	ja-s3 cp "$BATS_FILE_TMPDIR/obj" "s3://$S3_BUCKET/fstall"
	proxy_fault 'stall:8,n=1,method=GET'
	start=$SECONDS
	run_split ja-s3 -v cp "s3://$S3_BUCKET/fstall" "$T/back"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	assert_eq "$(sha "$T/back")" "$(sha "$BATS_FILE_TMPDIR/obj")"
	injected stall
	[ $((SECONDS - start)) -lt 8 ]
}

@test "a slow trickle is slow but not an error" {
	head -c 300000 /dev/urandom >"$T/small"
	ja-s3 cp "$T/small" "s3://$S3_BUCKET/ftrickle"
	proxy_fault 'trickle:150000,n=1,method=GET'
	start=$SECONDS
	run_split ja-s3 cp "s3://$S3_BUCKET/ftrickle" "$T/back"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	assert_files_equal "$T/small" "$T/back"
	injected trickle
	[ $((SECONDS - start)) -ge 1 ]
}

@test "an upload reset mid-body is sent again from the start" {
	proxy_fault 'reset-upload,n=2,method=PUT'
	roundtrip fupreset "$BATS_FILE_TMPDIR/obj"
	injected reset-upload
}

@test "multipart parts survive faults" {
	proxy_fault '503,n=2,method=PUT; reset-upload,n=1,method=PUT'
	roundtrip fmp "$BATS_FILE_TMPDIR/big"
	injected 503
}

@test "a fault that never heals ends after the attempt limit with one line" {
	proxy_fault '503,n=inf'
	start=$SECONDS
	run_split ja-s3 --max-attempts 3 cat "s3://$S3_BUCKET/f500"
	assert_error 1 "gave up after 3 attempts: GetObject s3://$S3_BUCKET/f500: SlowDown"
	[ "$(proxy_stat injected.503)" -eq 3 ]
	[ $((SECONDS - start)) -lt 10 ]
}

@test "client errors are not retried" {
	proxy_fault ''
	run_split ja-s3 -v cat "s3://$S3_BUCKET/does-not-exist"
	assert_error 1 "no such object"
	[ "$(proxy_stat forwarded)" -eq 1 ]
}

@test "Ctrl-C during a multipart upload stops quickly, exit 130, no object" {
	# the parts hang (the proxy takes them and never answers) until Ctrl-C
	proxy_fault 'stall:30,n=inf,method=PUT'
	ja-s3 -v cp "$BATS_FILE_TMPDIR/big" "s3://$S3_BUCKET/fint" 2>"$T/err" &
	pid=$!
	sleep 1
	kill -INT "$pid"
	start=$SECONDS
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 130 ] || { cat "$T/err"; false; }
	[ $((SECONDS - start)) -lt 5 ]
	grep -q interrupted "$T/err"
	# the upload was aborted (s3rver answers 405 to AbortMultipartUpload: -v says so)
	grep -q "abort multipart upload" "$T/err"
	proxy_fault ''
	run_split ja-s3 stat "s3://$S3_BUCKET/fint"
	assert_error 1 "no such object"
}

@test "Ctrl-C during a download leaves neither the file nor a temporary" {
	ja-s3 cp "$BATS_FILE_TMPDIR/big" "s3://$S3_BUCKET/fintget"
	proxy_fault 'trickle:1000000,n=inf,method=GET'
	mkdir "$T/d"
	ja-s3 cp "s3://$S3_BUCKET/fintget" "$T/d/out" 2>"$T/err" &
	pid=$!
	sleep 1.5
	kill -INT "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 130 ]
	[ -z "$(ls -A "$T/d")" ]
}

@test "a bucket in another region: the redirect is followed once and -v says so" {
	echo data >"$T/x"
	proxy_fault 'redirect:eu-west-1,n=1'
	run_split ja-s3 -v --region us-east-1 cp "$T/x" "s3://$S3_BUCKET/fredirect"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	grep -q "bucket $S3_BUCKET is in region eu-west-1, not us-east-1" <<<"$stderr"
	injected redirect
	# the retried request was signed for the new region
	grep -q "^PUT /$S3_BUCKET/fredirect " "$BATS_FILE_TMPDIR/headers.log"
	# a redirect that keeps coming is an error naming the region, not a loop
	proxy_fault 'redirect:eu-west-1,n=inf'
	run_split ja-s3 --region us-east-1 cat "s3://$S3_BUCKET/fredirect"
	assert_error 1 "wrong region"
	[ "$(proxy_stat injected.redirect)" -le 4 ]
}

@test "RequestTimeTooSkewed is corrected with the server's clock and sent again" {
	echo data >"$T/x"
	proxy_fault 'skew,n=1'
	run_split ja-s3 -v cp "$T/x" "s3://$S3_BUCKET/fskew"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	grep -q "clock differs from S3's" <<<"$stderr"
	injected skew
}

@test "every request carries ExpectedBucketOwner when it is configured" {
	: >"$BATS_FILE_TMPDIR/headers.log"
	echo data >"$T/x"
	ja-s3 --expected-bucket-owner 123456789000 cp "$T/x" "s3://$S3_BUCKET/fowner/x"
	JA_EXPECTED_BUCKET_OWNER=123456789000 ja-s3 ls "s3://$S3_BUCKET/fowner/" >/dev/null
	JA_EXPECTED_BUCKET_OWNER=123456789000 ja-s3 stat "s3://$S3_BUCKET/fowner/x" >/dev/null
	JA_EXPECTED_BUCKET_OWNER=123456789000 ja-s3 cat "s3://$S3_BUCKET/fowner/x" >/dev/null
	n=$(grep -vc '^$' "$BATS_FILE_TMPDIR/headers.log")
	[ "$n" -ge 4 ]
	[ "$(grep -c 'x-amz-expected-bucket-owner: 123456789000' "$BATS_FILE_TMPDIR/headers.log")" -eq "$n" ]
}

@test "the retry budget stops a retry storm when everything fails" {
	mkdir "$T/many"
	for i in $(seq 1 60); do echo "$i" >"$T/many/f$i"; done
	proxy_fault '503,n=inf'
	run_split ja-s3 -j 8 --max-attempts 5 cp -r "$T/many" "s3://$S3_BUCKET/storm"
	[ "$status" -eq 1 ]
	grep -q "retry budget exhausted" <<<"$stderr"
	n=$(proxy_stat injected.503)
	# 60 first attempts and at most 100 retries (500 tokens, 5 a retry), not 300 requests
	[ "$n" -ge 60 ] && [ "$n" -le 160 ]
	[ "$(grep -c . <<<"$stderr")" -eq 60 ]
}

@test "a refused connection is retried, then one clear line" {
	start=$SECONDS
	run_split ja-s3 --endpoint-url http://127.0.0.1:9 --max-attempts 3 cat "s3://$S3_BUCKET/x"
	assert_error 1 "gave up after 3 attempts: GetObject s3://$S3_BUCKET/x: .*onnect"
	[ $((SECONDS - start)) -lt 10 ]
}
