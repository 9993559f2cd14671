#!/bin/sh
# test-recipe.sh: the production recipe end to end on nginx: a dormant drop-in, ctl on, look, ctl off.
. "$ST_SRCDIR/tests/lib.sh"
command -v nginx >/dev/null || skip "nginx is not installed (apt-get install nginx-light)"
command -v curl >/dev/null || skip "curl is not installed"
export SENDTRACE_CTL_DIR=$T/ctl

# The drop-in as `env --systemd --dormant` prints it by default.
"$ST" env --systemd --dormant >"$T/default.conf"
ok "drop-in: dormant" grep -qx 'Environment="SENDTRACE_ENABLE=0"' "$T/default.conf"
ok "drop-in: systemd makes the log directory" grep -qx 'LogsDirectory=sendtrace' "$T/default.conf"
ok "drop-in: open to the workers' user (sticky)" grep -qx 'LogsDirectoryMode=1777' "$T/default.conf"
ok "drop-in: one file per process, %p doubled for systemd" \
	grep -qx 'Environment="SENDTRACE_OUTPUT=/var/log/sendtrace/sendtrace.%%p.jsonl"' "$T/default.conf"
ok "drop-in: a size cap" grep -qx 'Environment="SENDTRACE_MAX_SIZE=100M"' "$T/default.conf"
ok "drop-in: rotation" grep -qx 'Environment="SENDTRACE_ROTATE=3"' "$T/default.conf"

# The same recipe with the log directory here: what systemd would do with it.
LOGS=$T/logs
mkdir -p "$LOGS" && chmod 1777 "$LOGS"
chmod 755 "$T"
# A small cap, so that a few hundred requests rotate the workers' files.
"$ST" env --systemd --dormant --max-size=64k --rotate=2 -o "$LOGS/nginx.%p.jsonl" >"$T/sendtrace.conf"
# Environment="K=V" lines, as systemd reads them: quotes off, %% is %.
sed -n 's/^Environment="\(.*\)"$/\1/p' "$T/sendtrace.conf" | sed 's/%%/%/g' >"$T/env"
ok "drop-in parsed" test "$(wc -l <"$T/env")" -ge 3

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$T/nginx/logs" "$T/www"
head -c 20000 /dev/urandom >"$T/www/file.bin"
chmod 755 "$T/www" && chmod 644 "$T/www/file.bin"
user=""
[ "$(id -u)" = 0 ] && user="user nobody nogroup;"
cat >"$T/nginx/nginx.conf" <<CONF
$user
worker_processes 2;
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log;
events { worker_connections 64; }
http {
	access_log off;
	sendfile on;
	client_body_temp_path $T/nginx; proxy_temp_path $T/nginx;
	fastcgi_temp_path $T/nginx; uwsgi_temp_path $T/nginx; scgi_temp_path $T/nginx;
	server { listen 127.0.0.1:$port; root $T/www; location /small { return 200 "hello\n"; } }
}
CONF
# shellcheck disable=SC2046
env $(cat "$T/env") nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -g 'daemon off;' &
NGINX=$!
trap 'kill -QUIT $NGINX 2>/dev/null; wait; rm -rf "$T"' EXIT
i=0
until curl -s -o /dev/null "http://127.0.0.1:$port/small" || [ $i -gt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
workers=$(pgrep -P $NGINX | tr '\n' ' ')
eq "nginx: a master and two workers" "$(echo $workers | wc -w)" 2

get() { # get N: N requests, alternating a small answer and a sendfile
	n=0
	while [ $n -lt "$1" ]; do
		curl -s -o /dev/null "http://127.0.0.1:$port/small"
		curl -s -o /dev/null "http://127.0.0.1:$port/file.bin"
		n=$((n + 1))
	done
}
calls() { cat "$LOGS"/nginx.* 2>/dev/null | grep -c '"event":"call"'; }

get 10
eq "dormant: no trace file" "$(ls "$LOGS" | wc -l)" 0
"$ST" ctl $NGINX $workers status >"$T/st0"
eq "dormant: ctl sees master and workers, all off" "$(grep -c ': off, events 0' "$T/st0")" 3

"$ST" ctl $NGINX $workers on >/dev/null
get 10
n_on=$(calls)
ok "on: events appear ($n_on)" test "$n_on" -ge 20
ok "on: the workers' files are their own (nobody's when root)" \
	sh -c "ls -ln '$LOGS' | awk 'NR > 1 {print \$3}' | sort -u | grep -q ."
ok "on: sendfile of the file seen" sh -c "cat '$LOGS'/nginx.*.jsonl | grep -q '\"call\":\"sendfile'"
"$ST" ctl $workers status >"$T/st1"
if [ -n "$user" ]; then
	ok "a worker's page moved with it to nobody's directory" \
		sh -c "for w in $workers; do [ -f /tmp/sendtrace-65534/sendtrace-ctl.\$w ] || exit 1; done"
fi
ok "status: on, counts and trace paths" grep -q ": on, events [1-9].*; trace $LOGS/nginx\." "$T/st1"

"$ST" ctl $NGINX $workers off >/dev/null
sleep 0.1
n_off=$(calls)
get 10
eq "off: no event after it" "$(calls)" "$n_off"

# Rotation under load: on again, then enough requests to fill several 64 KiB files.
"$ST" ctl $NGINX $workers on >/dev/null
get 300
"$ST" ctl $NGINX $workers off >/dev/null
rotated=$(ls "$LOGS" | grep -c '\.jsonl\.[12]$')
ok "rotation: older files FILE.1 and FILE.2 made ($rotated)" test "$rotated" -ge 2
ok "rotation: no FILE.3 (2 kept)" sh -c "! ls '$LOGS' | grep -q '\.jsonl\.3\$'"
# 64 KiB, plus at most one region per process (an eighth of the cap) and the flag line.
big=$(stat -c %s "$LOGS"/nginx.* | sort -n | tail -1)
ok "rotation: every file within the cap and its slack ($big bytes)" test "$big" -le $((65536 + 8192 + 4096))
ls -l "$LOGS" | sed 's/^/# /'

kill -QUIT $NGINX
wait $NGINX
trap 'rm -rf "$T"' EXIT
ok "every trace line parses, rotated files too" sh -c "for f in '$LOGS'/nginx.*; do '$EVQ' \"\$f\" >/dev/null || exit 1; done"
ok "nginx gone: its control pages too" sh -c "! ls '$T/ctl' | grep -q ."
if [ -n "$user" ]; then
	# The workers became nobody: their pages moved to nobody's directory, and went at exit.
	left=0
	for w in $workers; do
		[ -e "/tmp/sendtrace-65534/sendtrace-ctl.$w" ] && left=$((left + 1))
	done
	eq "workers that became nobody removed their pages at exit" "$left" 0
fi
finish
