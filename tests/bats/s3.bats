#!/usr/bin/env bats
# ja-s3 and the S3 client against a real S3 server (s3rver) on loopback:
# round trips, interoperability with the AWS CLI, listings, errors, tracing.
load helper
load s3-helper

setup_file() {
	s3_start
	export AWS_ENDPOINT_URL_S3="$S3_ENDPOINT"
	export JA_RETRY_BASE_MS=50
}

teardown_file() { s3_stop; }

B() { echo "s3://$S3_BUCKET/$1"; }

sha() { sha256sum "$1" | cut -d' ' -f1; }

mkfile() { # mkfile PATH SIZE-IN-KIB
	head -c "$(($2 * 1024))" /dev/urandom >"$1"
}

@test "cp up and down: bytes, metadata and content type survive" {
	mkfile "$T/a.bin" 300
	run_split ja-s3 cp --metadata asset-root=/mnt/scene --metadata owner=render \
		--content-type application/x-test "$T/a.bin" "$(B rt/a.bin)"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	run_split ja-s3 cp "$(B rt/a.bin)" "$T/back.bin"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	assert_files_equal "$T/a.bin" "$T/back.bin"
	run_split ja-s3 stat "$(B rt/a.bin)"
	[ "$status" -eq 0 ]
	grep -q "size: 307200" <<<"$output"
	grep -q "x-amz-meta-asset-root: /mnt/scene" <<<"$output"
	grep -q "x-amz-meta-owner: render" <<<"$output"
	grep -q "content-type: application/x-test" <<<"$output"
	# no temporary file is left beside the destination
	[ "$(ls "$T" | grep -c ja-tmp)" -eq 0 ]
}

@test "interop: what ja writes the AWS CLI reads, and the other way round" {
	mkfile "$T/j.bin" 123
	ja-s3 cp --metadata file-system-location-name=Assets "$T/j.bin" "$(B interop/j.bin)"
	awscli s3api get-object --bucket "$S3_BUCKET" --key interop/j.bin "$T/j.aws" >"$T/j.json"
	assert_files_equal "$T/j.bin" "$T/j.aws"
	grep -q '"file-system-location-name": "Assets"' "$T/j.json"

	mkfile "$T/a.bin" 77
	awscli s3api put-object --bucket "$S3_BUCKET" --key "interop/from aws+é.bin" \
		--body "$T/a.bin" --metadata asset-root=/x >/dev/null
	ja-s3 cat "$(B "interop/from aws+é.bin")" >"$T/a.ja"
	assert_files_equal "$T/a.bin" "$T/a.ja"
	ja-s3 stat "$(B "interop/from aws+é.bin")" | grep -q "x-amz-meta-asset-root: /x"
}

@test "a large file goes up as a multipart upload that the AWS CLI reads back intact" {
	mkfile "$T/big.bin" $((40 * 1024))
	run_split ja-s3 -vv cp "$T/big.bin" "$(B mp/big.bin)"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	grep -q "multipart upload of s3://$S3_BUCKET/mp/big.bin: 3 parts" <<<"$stderr"
	grep -q "POST s3://$S3_BUCKET/mp/big.bin: ok" <<<"$stderr"
	awscli s3api get-object --bucket "$S3_BUCKET" --key mp/big.bin "$T/big.aws" >/dev/null
	assert_eq "$(sha "$T/big.aws")" "$(sha "$T/big.bin")"
	ja-s3 cp "$(B mp/big.bin)" "$T/big.ja"
	assert_eq "$(sha "$T/big.ja")" "$(sha "$T/big.bin")"
}

@test "ls pages through long listings and groups at / without -r" {
	mkdir -p "$T/tree/sub"
	for i in $(seq 1 25); do echo "$i" >"$T/tree/f$i"; done
	echo x >"$T/tree/sub/deep"
	ja-s3 cp -r "$T/tree" "$(B ls/)"
	run_split ja-s3 ls -r --page-size 7 "$(B ls/)"
	[ "$status" -eq 0 ]
	assert_eq "$(grep -c 'ls/' <<<"$output")" 26
	run_split ja-s3 ls --page-size 4 "$(B ls/)"
	[ "$status" -eq 0 ]
	grep -qE '^ +PRE ls/sub/$' <<<"$output"
	assert_eq "$(grep -c ' ls/f' <<<"$output")" 25
	! grep -q deep <<<"$output"
}

@test "cp -r copies a tree up and back down identically" {
	build_fixture
	mkdir -p "$T/src/d/e"
	for i in $(seq 1 40); do mkfile "$T/src/d/e/f$i" $((i % 7)); done
	echo "name with space" >"$T/src/d/a b.txt"
	ja-s3 -j 8 cp -r "$T/src" "$(B tree)"
	ja-s3 cp -r "$(B tree)" "$T/dst"
	diff -r "$T/src" "$T/dst"
}

@test "rm deletes one object; rm -r a prefix" {
	echo 1 >"$T/x"
	ja-s3 cp "$T/x" "$(B rm/one)"
	ja-s3 cp "$T/x" "$(B rm/d/two)"
	ja-s3 cp "$T/x" "$(B rm/d/three)"
	ja-s3 rm "$(B rm/one)"
	run_split ja-s3 stat "$(B rm/one)"
	assert_error 1 "no such object"
	ja-s3 rm -r "$(B rm/d/)"
	run_split ja-s3 ls -r "$(B rm/)"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "missing object, missing bucket: one clear line, exit 1, no file left" {
	run_split ja-s3 cat "$(B nope/missing)"
	assert_error 1 "GetObject s3://$S3_BUCKET/nope/missing: no such object"
	run_split ja-s3 cp "$(B nope/missing)" "$T/out"
	assert_error 1 "no such object"
	[ ! -e "$T/out" ]
	[ "$(ls "$T" | grep -c ja-tmp)" -eq 0 ]
	run_split ja-s3 ls s3://no-such-bucket-ja/
	assert_error 1 "bucket 'no-such-bucket-ja' does not exist"
}

@test "a wrong secret or an unknown key id is refused by the server and named" {
	echo x >"$T/x"
	run_split env AWS_SECRET_ACCESS_KEY=not-the-secret ja-s3 cp "$T/x" "$(B auth/x)"
	assert_error 1 "signature does not match"
	run_split env AWS_ACCESS_KEY_ID=AKIDUNKNOWN ja-s3 cp "$T/x" "$(B auth/x)"
	assert_error 1 "access key id is not known"
	run_split ja-s3 stat "$(B auth/x)"
	assert_error 1 "no such object"
}

@test "usage errors exit 2" {
	run_split ja-s3 frob
	[ "$status" -eq 2 ]
	run_split ja-s3 ls http://x/y
	assert_error 2 "not an s3:// URL"
	run_split ja-s3 cp a b
	assert_error 2 "exactly one of SRC and DST"
	run_split ja-s3 --endpoint-url ftp://x ls s3://b/
	assert_error 2 "endpoint URL must start with http"
}

@test "-vv traces every request and never shows the secret key or session token" {
	echo x >"$T/x"
	export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
	run_split env AWS_SESSION_TOKEN=tok-SECRET-session-5309 ja-s3 -vv cp "$T/x" "$(B trace/x)"
	# s3rver ignores the token; the request must still be signed with it and succeed
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	grep -qE "PUT s3://$S3_BUCKET/trace/x: ok, 2 B out, 0 B in, [0-9]+ ms, attempt 1" <<<"$stderr"
	! grep -q "tok-SECRET-session-5309" <<<"$stderr"
	! grep -q "S3RVER" <<<"$stderr"
	run_split ja-s3 -vv ls "$(B trace/)"
	grep -qE "GET s3://$S3_BUCKET/: ok" <<<"$stderr"
}

@test "credentials from a credential_process profile work end to end" {
	cat >"$T/cred.sh" <<-'EOF'
	#!/bin/sh
	printf '{"Version":1,"AccessKeyId":"S3RVER","SecretAccessKey":"S3RVER"}'
	EOF
	chmod +x "$T/cred.sh"
	printf '[profile proc]\ncredential_process = %s\n' "$T/cred.sh" >>"$AWS_CONFIG_FILE"
	echo hi >"$T/x"
	run_split env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY ja-s3 --profile proc cp "$T/x" "$(B proc/x)"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY ja-s3 --profile proc cat "$(B proc/x)" >"$T/y"
	assert_files_equal "$T/x" "$T/y"
}

@test "cat --range returns exactly the bytes asked for" {
	printf '0123456789abcdefghij' >"$T/r"
	ja-s3 cp "$T/r" "$(B range/r)"
	assert_eq "$(ja-s3 cat --range 3-7 "$(B range/r)")" "34567"
	assert_eq "$(ja-s3 cat --range 15- "$(B range/r)")" "fghij"
	assert_eq "$(ja-s3 cat --range 0-0 "$(B range/r)")" "0"   # s3rver answers 0-0 with everything: ja keeps one byte
	run_split ja-s3 cat --range 7-3 "$(B range/r)"
	assert_error 2 "--range"
}

teardown() {
	if [ -n "${TLS_PID:-}" ]; then _s3h_kill "$TLS_PID"; fi
}

@test "HTTPS: the server certificate is verified; AWS_CA_BUNDLE names a CA to trust" {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" \
		-days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
	JA_S3SERVER_EXIT_WITH_PARENT=1 setsid node --openssl-legacy-provider \
		"$JA_ROOT/tests/s3server/launch.js" -d "$T/tlsdata" -a 127.0.0.1 -p 0 \
		--no-vhost-buckets --configure-bucket tls --key "$T/key.pem" --cert "$T/cert.pem" -s \
		</dev/null >"$T/tls.out" 2>"$T/tls.err" 3>&- &
	TLS_PID=$!
	port=$(_s3h_listen "$TLS_PID" "$T/tls.out" "$T/tls.err" "the TLS server")
	echo secret-data >"$T/x"
	run_split ja-s3 --endpoint-url "https://127.0.0.1:$port" cp "$T/x" s3://tls/x
	assert_error 1 "certificate"
	AWS_CA_BUNDLE="$T/cert.pem" ja-s3 --endpoint-url "https://127.0.0.1:$port" cp "$T/x" s3://tls/x
	AWS_CA_BUNDLE="$T/cert.pem" ja-s3 --endpoint-url "https://127.0.0.1:$port" cat s3://tls/x >"$T/y"
	assert_files_equal "$T/x" "$T/y"
	# over HTTPS the payload is not hashed into the signature (UNSIGNED-PAYLOAD)
	[ -f "$T/tlsdata/tls/x._S3rver_object" ]
}

@test "cp with several sources: into a prefix ending in /, or into a local directory" {
	for i in 1 2 3; do echo "file $i" >"$T/m$i"; done
	ja-s3 cp "$T/m1" "$T/m2" "$T/m3" "$(B multi/)"
	mkdir "$T/back"
	ja-s3 cp "$(B multi/m1)" "$(B multi/m2)" "$(B multi/m3)" "$T/back"
	for i in 1 2 3; do assert_files_equal "$T/m$i" "$T/back/m$i"; done
	run_split ja-s3 cp "$T/m1" "$T/m2" "$(B multi/x)"
	assert_error 2 "must end in '/'"
	run_split ja-s3 cp "$(B multi/m1)" "$(B multi/m2)" "$T/m1"
	assert_error 2 "must be a directory"
	# one missing object fails alone; the others arrive
	rm -r "$T/back"; mkdir "$T/back"
	run_split ja-s3 cp "$(B multi/m1)" "$(B multi/nope)" "$(B multi/m3)" "$T/back"
	assert_error 1 "multi/nope: no such object"
	assert_files_equal "$T/m1" "$T/back/m1"
	assert_files_equal "$T/m3" "$T/back/m3"
	[ "$(ls "$T/back" | wc -l)" -eq 2 ]
}
