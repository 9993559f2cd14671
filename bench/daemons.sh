#!/usr/bin/env bash
# daemons.sh: the second tier of `make bench`: nginx (sendfile) and redis, traced and untraced.
set -u
LIB=$1
DUR=${BENCH_DAEMON_SECONDS:-5}
REPS=${BENCH_DAEMON_REPEATS:-3}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : 0)}'; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/st-daemons.XXXXXX")
cleanup() {
	[ -n "${npid:-}" ] && kill "$npid" 2>/dev/null
	[ -n "${rpid:-}" ] && kill "$rpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }
wait_port() { for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

echo
echo "daemons: requests per second, untraced vs traced (median of $REPS interleaved ${DUR}s runs, loopback)"

if command -v nginx >/dev/null && command -v wrk >/dev/null; then
	port=$(free_port)
	mkdir -p "$TMP/nginx/logs" "$TMP/www"
	head -c 65536 /dev/urandom >"$TMP/www/file.bin"
	# Workers drop to an unprivileged user: let it read the file.
	chmod 755 "$TMP" "$TMP/www"
	chmod 644 "$TMP/www/file.bin"
	cat >"$TMP/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log;
events { worker_connections 256; }
http {
	access_log off;
	sendfile on;
	client_body_temp_path $TMP/nginx; proxy_temp_path $TMP/nginx;
	fastcgi_temp_path $TMP/nginx; uwsgi_temp_path $TMP/nginx; scgi_temp_path $TMP/nginx;
	server { listen 127.0.0.1:$port; root $TMP/www; }
}
CONF
	nginx_rps() { # env...
		env "$@" nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g 'daemon off;' 2>/dev/null &
		npid=$!
		wait_port "$port" || { echo "nginx did not start"; return; }
		wrk -t1 -c16 -d"${DUR}s" "http://127.0.0.1:$port/file.bin" 2>/dev/null >"$TMP/wrk.out"
		if grep -q "Non-2xx" "$TMP/wrk.out"; then
			echo "nginx answered errors: $(grep Non-2xx "$TMP/wrk.out")" >&2
		fi
		awk '/Requests\/sec/ {print $2}' "$TMP/wrk.out"
		kill "$npid"
		wait "$npid" 2>/dev/null
		npid=
	}
	a="" b="" d=""
	for _ in $(seq "$REPS"); do # interleaved: the machine's drift hits all three
		rm -f "$TMP"/nginx.*.jsonl
		a+="$(nginx_rps X=1) "
		d+="$(nginx_rps SENDTRACE_ENABLE=0 SENDTRACE_OUTPUT="$TMP/dormant.%p.jsonl" LD_PRELOAD="$LIB") "
		b+="$(nginx_rps SENDTRACE_OUTPUT="$TMP/nginx.%p.jsonl" LD_PRELOAD="$LIB") "
	done
	a=$(median $a)
	b=$(median $b)
	d=$(median $d)
	ev=$(cat "$TMP"/nginx.*.jsonl 2>/dev/null | grep -c '"call":"sendfile' || true)
	dfiles=$(ls "$TMP" | grep -c '^dormant\.' || true)
	awk -v a="$a" -v b="$b" -v d="$d" -v ev="$ev" -v df="$dfiles" 'BEGIN { printf "nginx sendfile 64KiB: untraced %.0f rps, dormant %.0f rps (%.1f%%, %d trace files), traced %.0f rps (%.1f%%), %d sendfile events\n", a, d, (a > 0 ? 100 * d / a : 0), df, b, (a > 0 ? 100 * b / a : 0), ev }'
	[ -n "${BENCH_KEEP:-}" ] && cp "$TMP"/nginx.*.jsonl /tmp/
	rm -f "$TMP"/nginx.*.jsonl
else
	echo "nginx: skipped (nginx and wrk are not installed: apt-get install nginx-light wrk)"
fi

if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null; then
	port=$(free_port)
	redis_rps() { # env...
		env "$@" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
			--daemonize no --logfile "$TMP/redis.log" &
		rpid=$!
		wait_port "$port" || { echo "redis did not start"; return; }
		redis-benchmark -p "$port" -q -t set,get -n "$((DUR * 20000))" -c 20 2>/dev/null |
			tr '\r' '\n' | awk '/^(SET|GET): [0-9.]+ requests per second/ {s += $2; n++} END {print (n ? s / n : 0)}'
		kill "$rpid"
		wait "$rpid" 2>/dev/null
		rpid=
	}
	a="" b="" d=""
	for _ in $(seq "$REPS"); do
		rm -f "$TMP/redis.jsonl"
		a+="$(redis_rps X=1) "
		d+="$(redis_rps SENDTRACE_ENABLE=0 SENDTRACE_OUTPUT="$TMP/redis-dormant.jsonl" LD_PRELOAD="$LIB") "
		b+="$(redis_rps SENDTRACE_OUTPUT="$TMP/redis.jsonl" LD_PRELOAD="$LIB") "
	done
	a=$(median $a)
	b=$(median $b)
	d=$(median $d)
	ev=$(grep -c '"event":"call"' "$TMP/redis.jsonl" 2>/dev/null || true)
	awk -v a="$a" -v b="$b" -v d="$d" -v ev="$ev" 'BEGIN { printf "redis set/get: untraced %.0f rps, dormant %.0f rps (%.1f%%), traced %.0f rps (%.1f%%), %d call events\n", a, d, (a > 0 ? 100 * d / a : 0), b, (a > 0 ? 100 * b / a : 0), ev }'
else
	echo "redis: skipped (redis-server and redis-benchmark are not installed: apt-get install redis-server)"
fi
