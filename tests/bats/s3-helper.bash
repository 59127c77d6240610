# s3-helper.bash - a local S3 server (tests/s3server) and a fault proxy
# (tests/faultproxy.py) for bats files: `load s3-helper`.
#
#   setup_file()    { s3_start; }          # exports S3_* and an isolated AWS_* environment
#   teardown_file() { s3_stop; }           # also stops any proxy still running
#   awscli s3api put-object --bucket "$S3_BUCKET" --key k --body f
#   s3curl "$S3_ENDPOINT/$S3_BUCKET/k"     # curl signed with SigV4 as S3RVER
#   proxy_start [FAULTPROXY-ARGS...]       # exports PROXY_PORT, PROXY_ENDPOINT
#   proxy_fault '503,n=2,method=PUT; reset,path=/big'   # replace the plan ('' = none)
#   proxy_stat injected.503                # one counter; proxy_stats prints them all
#   proxy_stop
#
# Call these directly in setup_file/setup/a test, never inside `run` or $(...): the
# server and the proxy are children of the calling shell and exit when it does.
# Both run in their own process group; stopping kills the group and waits for it.

_S3H_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
_S3H_PY=${JA_PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
_S3H_AWS=${JA_AWS:-/usr/bin/aws}

# _s3h_alive PID: the process exists and is not a zombie
_s3h_alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st%% *}" != Z ]
}

# _s3h_kill PID: SIGTERM its process group, SIGKILL after 5 s, reap it if it is ours
_s3h_kill() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		_s3h_alive "$pid" || break
		sleep 0.05
	done
	if _s3h_alive "$pid"; then
		echo "s3-helper: pid $pid ignored SIGTERM; killing it" >&2
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null || true
}

# _s3h_listen PID OUTFILE ERRFILE WHAT: wait for "... listening on 127.0.0.1:PORT" in
# OUTFILE (15 s, or S3_START_TIMEOUT) and print PORT
_s3h_listen() {
	local pid=$1 out=$2 err=$3 what=$4 line i n
	n=$(awk -v t="${S3_START_TIMEOUT:-15}" 'BEGIN { print int(t * 20) }')
	for ((i = 0; i < n; i++)); do
		line=$(grep -m1 -o 'listening on 127\.0\.0\.1:[0-9][0-9]*' "$out" 2>/dev/null)
		if [ -n "$line" ]; then
			echo "${line##*:}"
			return 0
		fi
		if ! _s3h_alive "$pid"; then
			echo "s3-helper: $what exited before listening; its output:" >&2
			cat "$out" "$err" >&2
			return 1
		fi
		sleep 0.05
	done
	echo "s3-helper: $what did not print 'listening on 127.0.0.1:PORT' within ${S3_START_TIMEOUT:-15} s; its output:" >&2
	cat "$out" "$err" >&2
	return 1
}

# s3_start: start the server with bucket ja-test on a free port of 127.0.0.1
s3_start() {
	local node=${JA_NODE:-node} cli="$_S3H_ROOT/tests/s3server/node_modules/@20minutes/s3rver/lib/cli.js" v
	if [ -n "${S3_PID:-}" ]; then
		echo "s3_start: a server is already running (pid $S3_PID)" >&2
		return 1
	fi
	if ! command -v "$node" >/dev/null; then
		echo "s3_start: node (Node.js >= 20) not found; it comes with the machine image" >&2
		return 1
	fi
	if [ ! -f "$cli" ]; then
		echo "s3_start: $cli missing: run scripts/deps.sh (npm ci in tests/s3server)" >&2
		return 1
	fi
	S3_TMP=$(mktemp -d "${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}/ja-s3.XXXXXX") || return 1
	mkdir -p "$S3_TMP/home" "$S3_TMP/aws"
	JA_S3SERVER_EXIT_WITH_PARENT=1 setsid "$node" --openssl-legacy-provider \
		"$_S3H_ROOT/tests/s3server/launch.js" -d "$S3_TMP/data" -a 127.0.0.1 -p 0 \
		--no-vhost-buckets --configure-bucket ja-test -s \
		</dev/null >"$S3_TMP/server.out" 2>"$S3_TMP/server.err" 3>&- &
	S3_PID=$!
	echo "$S3_PID" >"$S3_TMP/server.pid"
	export S3_TMP S3_PID
	if ! S3_PORT=$(_s3h_listen "$S3_PID" "$S3_TMP/server.out" "$S3_TMP/server.err" "the S3 server"); then
		s3_stop
		return 1
	fi

	# Nothing of the machine's AWS configuration may leak in.
	for v in $(compgen -e | grep '^AWS_'); do unset "$v"; done
	_S3H_HOME=${_S3H_HOME:-$HOME}
	printf '%s\n' '[default]' 'region = us-east-1' 'output = json' \
		'request_checksum_calculation = when_required' \
		'response_checksum_validation = when_required' \
		's3 =' '    addressing_style = path' >"$S3_TMP/aws/config"
	: >"$S3_TMP/aws/credentials"
	export HOME="$S3_TMP/home" AWS_CONFIG_FILE="$S3_TMP/aws/config"
	export AWS_SHARED_CREDENTIALS_FILE="$S3_TMP/aws/credentials"
	export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
	export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
	export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
	export S3_PORT S3_ENDPOINT="http://127.0.0.1:$S3_PORT" S3_BUCKET=ja-test S3_DATA="$S3_TMP/data"
	export _S3H_HOME
}

# s3_stop: stop every proxy and the server, remove their files (safe to call twice)
s3_stop() {
	local f pid
	proxy_stop
	for f in "${S3_TMP:-/nonexistent}"/proxy.*/pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		if grep -qa faultproxy.py "/proc/$pid/cmdline" 2>/dev/null; then _s3h_kill "$pid"; fi
	done
	_s3h_kill "${S3_PID:-}"
	[ -n "${S3_TMP:-}" ] && rm -rf "$S3_TMP"
	[ -n "${_S3H_HOME:-}" ] && export HOME="$_S3H_HOME"
	unset S3_PID S3_TMP S3_PORT S3_ENDPOINT S3_DATA _S3H_HOME
}

# awscli ARGS...: Debian's aws CLI against the server (or S3_ENDPOINT=... for the proxy)
awscli() {
	if [ -z "${S3_ENDPOINT:-}" ]; then
		echo "awscli: S3_ENDPOINT is not set (s3_start)" >&2
		return 2
	fi
	AWS_PAGER="" AWS_CLI_AUTO_PROMPT=off AWS_REQUEST_CHECKSUM_CALCULATION=when_required \
		AWS_RESPONSE_CHECKSUM_VALIDATION=when_required \
		"$_S3H_AWS" --endpoint-url "$S3_ENDPOINT" --no-cli-pager "$@"
}

# s3curl ARGS...: curl with a SigV4 signature from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY
s3curl() {
	curl -sS --noproxy '*' --aws-sigv4 "aws:amz:${AWS_REGION:-us-east-1}:s3" \
		--user "${AWS_ACCESS_KEY_ID}:${AWS_SECRET_ACCESS_KEY}" \
		-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"
}

# proxy_start [ARGS...]: start tests/faultproxy.py in front of the server; ARGS go to
# it (--fault SPEC, --max-conns N, --idle-timeout S, ...)
proxy_start() {
	local d
	if [ -z "${S3_PORT:-}" ]; then
		echo "proxy_start: no server (s3_start first)" >&2
		return 1
	fi
	if [ -n "${PROXY_PID:-}" ]; then
		echo "proxy_start: a proxy is already running (pid $PROXY_PID)" >&2
		return 1
	fi
	d=$(mktemp -d "$S3_TMP/proxy.XXXXXX") || return 1
	setsid "$_S3H_PY" "$_S3H_ROOT/tests/faultproxy.py" --upstream "127.0.0.1:$S3_PORT" --port 0 "$@" \
		</dev/null >"$d/out" 2>"$d/log" 3>&- &
	PROXY_PID=$!
	echo "$PROXY_PID" >"$d/pid"
	PROXY_DIR=$d
	PROXY_LOG=$d/log
	export PROXY_PID PROXY_DIR PROXY_LOG
	if ! PROXY_PORT=$(_s3h_listen "$PROXY_PID" "$d/out" "$d/log" "the fault proxy"); then
		proxy_stop
		return 1
	fi
	export PROXY_PORT PROXY_ENDPOINT="http://127.0.0.1:$PROXY_PORT"
}

# proxy_stop: stop the proxy started by proxy_start (safe to call twice)
proxy_stop() {
	[ -n "${PROXY_PID:-}" ] || return 0
	_s3h_kill "$PROXY_PID"
	[ -n "${PROXY_DIR:-}" ] && rm -rf "$PROXY_DIR"
	unset PROXY_PID PROXY_DIR PROXY_LOG PROXY_PORT PROXY_ENDPOINT
}

# _s3h_control METHOD PATH [BODY]: a request to the proxy's control endpoints
_s3h_control() {
	if [ -z "${PROXY_ENDPOINT:-}" ]; then
		echo "s3-helper: no proxy (proxy_start first)" >&2
		return 1
	fi
	curl -sS --noproxy '*' --max-time 10 --fail-with-body -X "$1" ${3+--data-binary "$3"} \
		"$PROXY_ENDPOINT/__faultproxy/$2"
}

# proxy_fault SPEC: replace the fault plan ('' or nothing: pass everything through)
proxy_fault() {
	local out
	if ! out=$(_s3h_control PUT plan "${1-}"); then
		echo "proxy_fault: $out" >&2
		return 1
	fi
}

# proxy_stats: "NAME VALUE" lines (requests, forwarded, passthrough, injected,
# injected.KIND, connections, active, upstream_errors, aborted, bad_requests)
proxy_stats() { _s3h_control GET stats.txt; }

# proxy_stats_json: the same as JSON, with the last 100 injections ("KIND METHOD TARGET")
proxy_stats_json() { _s3h_control GET stats; }

# proxy_stat NAME: one counter's value
proxy_stat() {
	local all
	all=$(proxy_stats) || return 1
	awk -v k="$1" '$1 == k { print $2; found = 1 } END { exit !found }' <<<"$all" ||
		{ echo "proxy_stat: no counter '$1'" >&2; return 1; }
}

# proxy_reset_stats: zero the counters (the plan's per-rule counts stay)
proxy_reset_stats() { _s3h_control POST reset-stats >/dev/null; }
