#!/bin/bash
# t/perf/http.sh - temperd's HTTP(S) server beside nginx on loopback.
#
#   t/perf/http.sh [REPETITIONS]     (run from a build tree, or set TOP_BUILDDIR)
#
# Arms, interleaved in each repetition (MEASURING.md): temperd and nginx
# (one worker: temperd is single-threaded) serving /healthz and /metrics,
# plain and TLS, driven by wrk (closed loop, throughput); then open-loop
# runs at a fixed 5,000 requests/s on /healthz and /metrics (t/perf/http-load.c,
# latency from each request's intended send time) against both.  nginx serves static files of
# the same sizes as temperd's answers.  Prints medians of per-repetition
# ratios with min-max; never fails on timing.
set -euo pipefail
TOP_SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
TOP_BUILDDIR=${TOP_BUILDDIR:-$PWD}
TEMPERD=${TEMPERD:-$TOP_BUILDDIR/src/temperd}
REPS=${1:-5}
DURATION=${DURATION:-4}
OPEN_RATE=${OPEN_RATE:-5000}
OPEN_SECONDS=${OPEN_SECONDS:-6}

for tool in wrk nginx openssl python3 cc; do
	command -v "$tool" >/dev/null || { echo "http.sh: $tool is missing (apt-get install wrk nginx-light)"; exit 0; }
done
[ -x "$TEMPERD" ] || { echo "http.sh: no temperd at $TEMPERD"; exit 1; }
if nm "$TEMPERD" 2>/dev/null | grep -q __asan_init; then
	echo "http.sh: warning: $TEMPERD is built with sanitizers; figures will be slow" >&2
fi

TMP=$(mktemp -d /tmp/temper-perf-http.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cc -O2 -o "$TMP/http-load" "$TOP_SRCDIR/t/perf/http-load.c"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$TMP/key.pem" \
	-out "$TMP/cert.pem" -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 1 2>/dev/null

tp=$(port); ts=$(port); np=$(port); ns=$(port)
"$TEMPERD" --listen="127.0.0.1:$tp" --state-dir="$TMP/s1" 2>"$TMP/t1.log" & pids+=($!); plain_pid=$!
"$TEMPERD" --listen="127.0.0.1:$ts" --state-dir="$TMP/s2" --tls-cert="$TMP/cert.pem" --tls-key="$TMP/key.pem" 2>"$TMP/t2.log" & pids+=($!); tls_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$tp/healthz" >/dev/null && break; sleep 0.1; done

mkdir -p "$TMP/www"
# nginx's workers run as nobody: they must be able to read the files.
chmod 755 "$TMP" "$TMP/www"
curl -s "http://127.0.0.1:$tp/healthz" >"$TMP/www/healthz"
# /metrics grows as requests are counted: size the static twin once warm.
for _ in $(seq 200); do curl -s "http://127.0.0.1:$tp/healthz" >/dev/null; done
curl -s "http://127.0.0.1:$tp/metrics" >"$TMP/www/metrics"
cat >"$TMP/nginx.conf" <<CONF
worker_processes 1;
daemon off;
error_log $TMP/nginx-error.log;
pid $TMP/nginx.pid;
events { worker_connections 1024; }
http {
	access_log off;
	keepalive_requests 1000000;
	default_type text/plain;
	server { listen 127.0.0.1:$np; root $TMP/www; }
	server {
		listen 127.0.0.1:$ns ssl;
		ssl_certificate $TMP/cert.pem; ssl_certificate_key $TMP/key.pem;
		ssl_protocols TLSv1.2; ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256;
		root $TMP/www;
	}
}
CONF
nginx -c "$TMP/nginx.conf" -p "$TMP" & pids+=($!)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$np/healthz" >/dev/null && break; sleep 0.1; done
echo "healthz body: $(stat -c %s "$TMP/www/healthz") bytes; metrics body: $(stat -c %s "$TMP/www/metrics") bytes"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# wrk_run URL -> "rps p50_ms p99_ms"
wrk_run() {
	wrk -t1 -c32 -d"${DURATION}s" --latency "$1" 2>/dev/null | awk '
		/Non-2xx or 3xx responses/ { print "http.sh: " $0 " from '"$1"'" > "/dev/stderr" }
		/Requests\/sec/ { rps = $2 }
		/^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
		function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
		END { printf "%.0f %.3f %.3f\n", rps, ms(p50), ms(p99) }'
}

declare -A results
hz=$(getconf CLK_TCK)
for rep in $(seq "$REPS"); do
	for target in healthz metrics; do
		for scheme in http https; do
			if [ "$scheme" = http ]; then tport=$tp; nport=$np; pid=$plain_pid; else tport=$ts; nport=$ns; pid=$tls_pid; fi
			before=$(cpu_ticks "$pid")
			t=$(wrk_run "$scheme://127.0.0.1:$tport/$target")
			after=$(cpu_ticks "$pid")
			cpu=$(awk -v a="$before" -v b="$after" -v hz="$hz" -v d="$DURATION" 'BEGIN { printf "%.0f", (b - a) / hz / d * 100 }')
			n=$(wrk_run "$scheme://127.0.0.1:$nport/$target")
			results[$target-$scheme]+="$t $cpu $n
"
		done
	done
	for target in healthz metrics; do
		results[open-temperd-$target]+="$("$TMP/http-load" 127.0.0.1 "$tp" "/$target" "$OPEN_RATE" "$OPEN_SECONDS" 16)
"
		results[open-nginx-$target]+="$("$TMP/http-load" 127.0.0.1 "$np" "/$target" "$OPEN_RATE" "$OPEN_SECONDS" 16)
"
	done
done

median_range() { sort -g | awk '{ v[NR] = $1 } END { printf "%.2f (%.2f-%.2f)", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR] }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { printf "%s", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

echo
echo "wrk, 1 thread, 32 connections, ${DURATION}s per arm, $REPS repetitions interleaved; medians (min-max ratio)"
printf '%-16s %12s %12s %22s %10s %10s %10s %10s %8s\n' arm temperd_rps nginx_rps "ratio temperd/nginx" t_p50_ms t_p99_ms n_p50_ms n_p99_ms t_cpu%
for key in healthz-http metrics-http healthz-https metrics-https; do
	rows=${results[$key]}
	ratio=$(awk 'NF { print $1 / $5 }' <<<"$rows" | median_range)
	printf '%-16s %12s %12s %22s %10s %10s %10s %10s %8s\n' "$key" \
		"$(awk 'NF {print $1}' <<<"$rows" | median)" "$(awk 'NF {print $5}' <<<"$rows" | median)" "$ratio" \
		"$(awk 'NF {print $2}' <<<"$rows" | median)" "$(awk 'NF {print $3}' <<<"$rows" | median)" \
		"$(awk 'NF {print $6}' <<<"$rows" | median)" "$(awk 'NF {print $7}' <<<"$rows" | median)" \
		"$(awk 'NF {print $4}' <<<"$rows" | median)"
done
echo
echo "open loop, $OPEN_RATE requests/s for ${OPEN_SECONDS}s, 16 connections, latency from intended send time (medians over $REPS runs)"
for target in healthz metrics; do
	for arm in temperd nginx; do
		rows=${results[open-$arm-$target]}
		field() { grep -o "$1=[0-9]*" <<<"$rows" | cut -d= -f2 | median; }
		printf '%-16s requests=%s errors=%s p50=%sus p99=%sus p99.9=%sus max=%sus\n' "$arm /$target" \
			"$(field requests)" "$(field errors)" "$(field p50_us)" "$(field p99_us)" "$(field p999_us)" "$(field max_us)"
	done
	echo "/$target p99 ratio temperd/nginx per run: $(paste <(grep -o 'p99_us=[0-9]*' <<<"${results[open-temperd-$target]}" | cut -d= -f2) <(grep -o 'p99_us=[0-9]*' <<<"${results[open-nginx-$target]}" | cut -d= -f2) | awk '{print $1 / $2}' | median_range)"
done
echo "temperd RSS after the runs: plain $(rss_kib "$plain_pid") KiB, TLS $(rss_kib "$tls_pid") KiB"
