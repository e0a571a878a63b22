#!/usr/bin/env bash
# Proves that deploy/nginx/hr-portal.conf protects hr-portal the way deploy/README.md says.
#
#   bash deploy/check.sh            (from the repository root; CI runs it as root on a fresh machine)
#
# It builds the release binary, starts it on a free loopback port with the production settings for
# a proxy (proxy_ip_header = X-Real-IP, https public_url, secure cookies), renders the production
# nginx file for a private nginx instance (its own prefix, pid, logs and temp folders under a
# mktemp folder, free high ports; it never reads or writes /etc/nginx, never binds port 80/443 and
# runs beside any system nginx), then:
#
#   - port 80 only redirects; HSTS exactly once on answers (nginx's own 413 included); HTTP/2; an
#     unknown TLS server name and TLS 1.1 are refused; a 100 KB body gets 413 from nginx;
#   - a forged X-Real-IP sent through nginx does not reach the app: the session the sign-in creates
#     records 127.0.0.1 (read back with `hr-portal sessions list`), while the same forged header sent
#     straight to the app IS believed — the overwrite in nginx is what protects;
#   - 30 rapid sign-in POSTs from one address: the burst reaches the app, the rest get 429 from
#     nginx's limit_req, and GET /login is still served;
#   - deploy/stall.py holds 5000 stalled connections (4000 with half a TLS ClientHello, 1000 with a
#     finished TLS handshake and half an HTTP request); meanwhile /healthz through nginx answers 200 in
#     under a second, five times, and the app answers directly too;
#   - nginx closes every stalled connection after client_header_timeout (10 s, the production value;
#     the test copy is not shortened);
#   - 25 slow POST bodies from one address: 20 (limit_conn) are held by nginx and ended after
#     client_body_timeout, the other 5 get 429; meanwhile another address (127.0.0.2) is served;
#   - resident memory of nginx and of the app before, during and after.
#
# Exits non-zero if anything fails. Needs bash, cargo, python3, openssl; installs nginx-light and curl
# with apt-get when they are missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD

STALL_RAW=${STALL_RAW:-4000}           # connections that never finish the TLS handshake
STALL_TLS=${STALL_TLS:-1000}           # TLS connections that never finish the request header
HEADER_TIMEOUT=10                      # client_header_timeout in deploy/nginx/hr-portal.conf
BODY_TIMEOUT=10                        # client_body_timeout in deploy/nginx/hr-portal.conf
CHECKS=5                               # /healthz requests while the stalls are held

say() { printf '\n==> %s\n' "$*"; }
# Waits (tries × 0.1 s) until `curl… URL` answers 200 while process PID lives; else shows LOG and fails.
await_healthz() { # name pid log tries curl-command…
    local name=$1 pid=$2 log=$3 tries=$4 code=
    shift 4
    for _ in $(seq "$tries"); do
        code=$("$@" -o /dev/null -w '%{http_code}' || true)
        [ "$code" = 200 ] && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$log"; die "$name exited"; }
        sleep 0.1
    done
    cat "$log"
    die "/healthz through $name never answered 200"
}

results=()
failed=0
pass() { results+=("PASS  $*"); printf 'PASS  %s\n' "$*"; }
fail() { results+=("FAIL  $*"); printf 'FAIL  %s\n' "$*"; failed=1; }
die() { printf 'check.sh: %s\n' "$*" >&2; exit 1; }

# --- Tools -------------------------------------------------------------------------------------------
missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
    say "Installing ${missing[*]}"
    [ "$(id -u)" = 0 ] || die "${missing[*]} missing and not root: apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -qq update
    apt-get -qq install -y --no-install-recommends "${missing[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for tool in python3 openssl cargo; do
    command -v "$tool" >/dev/null || die "$tool is needed"
done
say "$("$NGINX" -v 2>&1), $(curl --version | head -n1 | cut -d' ' -f1-2), $(python3 --version)"

# Thousands of sockets: the script's children (stall.py, nginx) inherit this limit.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile=$(ulimit -n)
need=$((STALL_RAW + STALL_TLS + 1000))
[ "$nofile" = unlimited ] || ((nofile >= need)) ||
    die "open-file limit is $nofile (hard $(ulimit -Hn)); $need needed for the stall test"

# --- Build -------------------------------------------------------------------------------------------
say "Building the release binary"
cargo build --release --locked
bin=${CARGO_TARGET_DIR:-target}/release/hr-portal
[[ $bin = /* ]] || bin=$repo/$bin
[ -x "$bin" ] || die "no binary at $bin"

# --- Scratch folder, cleaned up with everything started here -----------------------------------------
tmp=$(mktemp -d)
app_pid='' nginx_pid='' stall_pid=''
cleanup() {
    local pid
    for pid in $stall_pid $nginx_pid $app_pid; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $stall_pid $nginx_pid $app_pid; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# nginx workers run as www-data (as in production) and must reach their temp folders in here.
chmod 711 "$tmp"
mkdir -p "$tmp/tls" "$tmp/nginx/logs" "$tmp/nginx/temp"
chmod 711 "$tmp/nginx" "$tmp/nginx/temp"

read -r app_port tls_port http_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')

# Resident memory (KiB) of a process and all its descendants, from /proc.
rss_kib() {
    python3 - "$1" <<'EOF'
import os, sys
root = int(sys.argv[1])
parent = {}
for name in os.listdir("/proc"):
    if name.isdigit():
        try:
            with open(f"/proc/{name}/stat") as f:
                parent[int(name)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            pass
tree, grew = {root}, True
while grew:
    more = {p for p, pp in parent.items() if pp in tree} - tree
    tree |= more
    grew = bool(more)
total = 0
for pid in tree:
    try:
        with open(f"/proc/{pid}/status") as f:
            total += next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    except (OSError, StopIteration):
        pass
print(total)
EOF
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

# --- Certificate -------------------------------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost \
    -keyout "$tmp/tls/key.pem" -out "$tmp/tls/cert.pem" 2>/dev/null

# --- The app -----------------------------------------------------------------------------------------
# Production settings for running behind the front (docs/settings.md); Rocket.toml from the repo
# gives the release profile (log_level critical, 32 KiB form limit).
app_env=(
    ROCKET_CONFIG="$repo/Rocket.toml"
    ROCKET_DATA_DIR="$tmp/data"
    ROCKET_ADDRESS=127.0.0.1
    ROCKET_PORT="$app_port"
    ROCKET_PROXY_IP_HEADER=X-Real-IP
    ROCKET_PUBLIC_URL="https://localhost:$tls_port"
    ROCKET_SECURE_COOKIES=true
)
say "Starting hr-portal on 127.0.0.1:$app_port"
env "${app_env[@]}" "$bin" serve >"$tmp/app.log" 2>&1 &
app_pid=$!
await_healthz "hr-portal" "$app_pid" "$tmp/app.log" 300 curl -s "http://127.0.0.1:$app_port/healthz"

# --- nginx: the production file, rendered for this private instance ----------------------------------
say "Starting nginx on 127.0.0.1:$tls_port (TLS) and 127.0.0.1:$http_port (redirect)"
# Only addresses, ports, names and paths change; every limit and timeout is the production one.
sed -e "s#https://hr.example.com#https://localhost:$tls_port#g" \
    -e "s#hr\.example\.com#localhost#g" \
    -e "s#127\.0\.0\.1:8000#127.0.0.1:$app_port#g" \
    -e '/^[[:space:]]*listen \[::\]:/d' \
    -e "s#^\([[:space:]]*\)listen 443 #\1listen 127.0.0.1:$tls_port #" \
    -e "s#^\([[:space:]]*\)listen 80 #\1listen 127.0.0.1:$http_port #" \
    -e "s#/etc/ssl/hr-portal/fullchain\.pem#$tmp/tls/cert.pem#g" \
    -e "s#/etc/ssl/hr-portal/privkey\.pem#$tmp/tls/key.pem#g" \
    -e "s#/var/log/nginx/#$tmp/nginx/logs/#g" \
    deploy/nginx/hr-portal.conf >"$tmp/nginx/hr-portal.conf"
# Guard: nothing outside the scratch folder, no privileged port (comments aside).
if grep -v '^[[:space:]]*#' "$tmp/nginx/hr-portal.conf" | grep -nE '/etc/|/var/|listen (80|443)[ ;]'; then
    die "rendering deploy/nginx/hr-portal.conf left a system path or port (above)"
fi
[ "$(grep -c "listen 127.0.0.1:$tls_port " "$tmp/nginx/hr-portal.conf")" = 2 ] ||
    die "expected two TLS listen lines in deploy/nginx/hr-portal.conf"
grep -q "client_header_timeout ${HEADER_TIMEOUT}s;" "$tmp/nginx/hr-portal.conf" ||
    die "client_header_timeout is no longer ${HEADER_TIMEOUT}s; update HEADER_TIMEOUT in check.sh"
grep -q "client_body_timeout ${BODY_TIMEOUT}s;" "$tmp/nginx/hr-portal.conf" ||
    die "client_body_timeout is no longer ${BODY_TIMEOUT}s; update BODY_TIMEOUT in check.sh"
CONN_LIMIT=$(sed -n 's/^[[:space:]]*limit_conn hr_portal_addr \([0-9][0-9]*\);.*/\1/p' "$tmp/nginx/hr-portal.conf")
[ -n "$CONN_LIMIT" ] || die "no 'limit_conn hr_portal_addr N;' in deploy/nginx/hr-portal.conf"
user_line=''
[ "$(id -u)" = 0 ] && id www-data >/dev/null 2>&1 && user_line='user www-data;'
# The main/events values recommended in hr-portal.conf's header (worker_rlimit_nofile capped to
# what this machine allows).
cat >"$tmp/nginx/nginx.conf" <<EOF
$user_line
daemon off;
worker_processes auto;
worker_rlimit_nofile $nofile;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
events {
    worker_connections 16384;
}
http {
    default_type application/octet-stream;
    access_log $tmp/nginx/logs/access.log;
    client_body_temp_path $tmp/nginx/temp/body;
    proxy_temp_path $tmp/nginx/temp/proxy;
    fastcgi_temp_path $tmp/nginx/temp/fastcgi;
    uwsgi_temp_path $tmp/nginx/temp/uwsgi;
    scgi_temp_path $tmp/nginx/temp/scgi;
    include $tmp/nginx/hr-portal.conf;
}
EOF
nginx_args=(-p "$tmp/nginx/" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/logs/error.log")
"$NGINX" -t -q "${nginx_args[@]}" || die "nginx -t refused the rendered configuration"
"$NGINX" "${nginx_args[@]}" &
nginx_pid=$!

curl_tls=(curl -sk --resolve "localhost:$tls_port:127.0.0.1")
base="https://localhost:$tls_port"
await_healthz "nginx" "$nginx_pid" "$tmp/nginx/logs/error.log" 100 "${curl_tls[@]}" "$base/healthz"

# --- Functional checks -------------------------------------------------------------------------------
say "Front door"
headers=$("${curl_tls[@]}" -D - -o /dev/null "$base/healthz")
hsts=$(grep -i '^strict-transport-security:' <<<"$headers" | tr -d '\r' || true)
if [ "$(grep -ci '^strict-transport-security: max-age=31536000; includeSubDomains$' <<<"$hsts")" = 1 ] &&
    [ "$(wc -l <<<"$hsts")" = 1 ]; then
    pass "HSTS, exactly once: $hsts"
else
    fail "expected one Strict-Transport-Security header through nginx, got: '${hsts:-none}'"
fi
hsts_413=$(head -c 100000 /dev/zero | "${curl_tls[@]}" -D - -o /dev/null --data-binary @- "$base/login" |
    grep -ci '^strict-transport-security:' || true)
[ "$hsts_413" = 1 ] && pass "HSTS also on nginx's own error answers (413)" ||
    fail "nginx's 413 carries $hsts_413 HSTS headers"
if grep -qi '^server: nginx/' <<<"$headers"; then fail "Server header shows nginx's version"; fi

h2=$("${curl_tls[@]}" --http2 -o /dev/null -w '%{http_code} HTTP/%{http_version}' "$base/healthz")
[ "$h2" = "200 HTTP/2" ] && pass "HTTP/2 over TLS: $h2" || fail "HTTP/2 check: $h2"

redirect=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$http_port/login?x=1")
[ "$redirect" = "301 $base/login?x=1" ] && pass "port 80 only redirects: $redirect" ||
    fail "port 80 redirect: got '$redirect'"

if curl -sk --max-time 5 --resolve "other.example:$tls_port:127.0.0.1" -o /dev/null \
    "https://other.example:$tls_port/healthz" 2>/dev/null; then
    fail "a TLS client asking for another server name was served"
else
    pass "a TLS handshake for an unknown server name is refused"
fi

tls11=$(curl -sk --tls-max 1.1 --resolve "localhost:$tls_port:127.0.0.1" -o /dev/null \
    -w '%{http_code}' "$base/healthz" 2>/dev/null || true)
[ "$tls11" = 000 ] && pass "TLS 1.1 and older refused" || fail "TLS 1.1 answered $tls11"

big=$(head -c 100000 /dev/zero | tr '\0' a | "${curl_tls[@]}" -o /dev/null -w '%{http_code}' \
    -H 'Content-Type: application/x-www-form-urlencoded' --data-binary @- "$base/login")
[ "$big" = 413 ] && pass "a 100 KB body is refused by nginx: 413" || fail "100 KB body answered $big"

# --- X-Real-IP cannot be forged through nginx ---------------------------------------------------------
say "Forged X-Real-IP"
forged=203.0.113.9
email=proxy-probe@example.com
password="probe-$(openssl rand -hex 12)"
printf '%s\n' "$password" |
    env "${app_env[@]}" "$bin" user add "$email" --name "Proxy Probe" >"$tmp/cli.log" 2>&1 ||
    { cat "$tmp/cli.log"; die "hr-portal user add failed"; }

# Signs in at $1 (extra curl arguments after it) with a forged X-Real-IP and X-Forwarded-For;
# prints the status and the redirect target.
sign_in() {
    local url=$1 jar
    shift
    jar=$(mktemp -p "$tmp" jar.XXXX)
    local page token
    page=$(curl -s -c "$jar" -b "$jar" "$@" "$url/login")
    token=$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' <<<"$page" | head -n1)
    curl -s -c "$jar" -b "$jar" "$@" -o /dev/null -w '%{http_code} %{redirect_url}' \
        -H "X-Real-IP: $forged" -H "X-Forwarded-For: $forged" \
        --data-urlencode "email=$email" --data-urlencode "password=$password" \
        --data-urlencode "csrf_token=$token" "$url/login"
}
sessions_ips() {
    env "${app_env[@]}" "$bin" sessions list --user "$email" |
        grep -oE '(^|[[:space:]])([0-9]{1,3}\.){3}[0-9]{1,3}([[:space:]]|$)' | tr -d ' ' | sort | uniq -c |
        awk '{ printf "%s%s×%s", sep, $2, $1; sep = ", " }'
}
through=$(sign_in "$base" -k --resolve "localhost:$tls_port:127.0.0.1")
ips=$(sessions_ips)
if [[ $through = "303 "* ]] && [ "$ips" = "127.0.0.1×1" ]; then
    pass "sign-in through nginx with X-Real-IP: $forged is recorded as 127.0.0.1 (sessions list: $ips)"
else
    fail "sign-in through nginx: answer '$through', sessions list: '${ips:-none}'"
fi
# Control: the same request straight to the app (which is why it must listen on loopback only).
direct=$(sign_in "http://localhost:$app_port" --resolve "localhost:$app_port:127.0.0.1")
ips=$(sessions_ips)
if [[ $direct = "303 "* ]] && [[ $ips = *"$forged×1"* ]]; then
    pass "control: the same header sent straight to the app is believed (sessions list: $ips) — the overwrite in nginx is what protects"
else
    # Not a failure of the front: the probe could not sign in directly (e.g. curl refusing Secure
    # cookies over plain HTTP), so the control is inconclusive.
    results+=("NOTE  control sign-in straight to the app inconclusive: '$direct', sessions: '${ips:-none}'")
    printf 'NOTE  control inconclusive: %s / %s\n' "$direct" "${ips:-none}"
fi

# --- Sign-in rate per address (limit_req) -------------------------------------------------------------
say "Sign-in POST rate per address"
codes=$(for _ in $(seq 30); do
    "${curl_tls[@]}" -o /dev/null -w '%{http_code}\n' -d 'email=nobody%40example.com&password=x' "$base/login"
done | sort | uniq -c | awk '{ printf "%s%s×%s", sep, $2, $1; sep = ", " }')
login_get=$("${curl_tls[@]}" -o /dev/null -w '%{http_code}' "$base/login")
# The burst (20) reaches the app (which refuses them: no CSRF token); beyond it nginx answers 429.
if [[ $codes = *"429×"* ]] && [[ $codes != *"429×30"* ]] && [ "$login_get" = 200 ]; then
    pass "30 rapid sign-in POSTs from one address: $codes; GET /login still 200"
else
    fail "30 rapid sign-in POSTs from one address: $codes; GET /login $login_get"
fi

# The app routes a trailing slash to the same handler: the slashed forms are limited too. (The
# address's bucket is spent by now, so each must answer 429 at once; a form nginx does not limit
# would reach the app and never answer 429.)
for path in /login/ /password/forgot/ /login/two-factor/ /login/passkey/challenge/; do
    slashed=$(for _ in $(seq 5); do
        "${curl_tls[@]}" -o /dev/null -w '%{http_code}\n' -d 'email=nobody%40example.com&password=x' "$base$path"
    done | sort | uniq -c | awk '{ printf "%s%s×%s", sep, $2, $1; sep = ", " }')
    if [[ $slashed = *"429×"* ]]; then
        pass "rapid POSTs to $path are rate-limited too: $slashed"
    else
        fail "rapid POSTs to $path skip the sign-in limit: $slashed"
    fi
done

# --- Slowloris ----------------------------------------------------------------------------------------
say "Holding $((STALL_RAW + STALL_TLS)) stalled connections against nginx's TLS port"
nginx_rss_before=$(rss_kib "$nginx_pid")
app_rss_before=$(rss_kib "$app_pid")
python3 deploy/stall.py --port "$tls_port" --sni localhost --raw "$STALL_RAW" --tls "$STALL_TLS" \
    --watch $((HEADER_TIMEOUT + 15)) --status "$tmp/stall.json" --result "$tmp/stall-result.json" &
stall_pid=$!
# Field $2 (dotted path) of JSON file $1; "-" when absent.
json() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d = d.get(k, "-") if isinstance(d, dict) else "-"
print(d)' "$@"; }
phase=''
for _ in $(seq 600); do
    [ -s "$tmp/stall.json" ] && phase=$(json "$tmp/stall.json" phase)
    [ "$phase" = held ] || [ "$phase" = done ] && break
    kill -0 "$stall_pid" 2>/dev/null || break
    sleep 0.1
done
[ "$phase" = held ] || die "stall.py did not get its connections open (phase '$phase')"
open_before=$(json "$tmp/stall.json" open)

times=()
slow=0
for i in $(seq "$CHECKS"); do
    out=$("${curl_tls[@]}" --max-time 1 -o /dev/null -w '%{http_code} %{time_total}' "$base/healthz" || true)
    times+=("${out#* }")
    code=${out%% *}
    if [ "$code" != 200 ] || ! awk -v t="${out#* }" 'BEGIN { exit !(t < 1.0) }'; then
        slow=$((slow + 1))
    fi
    printf '   healthz %d: %s\n' "$i" "$out"
done
hsts_held=$("${curl_tls[@]}" --max-time 1 -D - -o /dev/null "$base/healthz" | grep -ci '^strict-transport-security' || true)
app_direct=$(curl -s --max-time 1 -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$app_port/healthz" || true)
nginx_rss_held=$(rss_kib "$nginx_pid")
app_rss_held=$(rss_kib "$app_pid")
open_after=$(json "$tmp/stall.json" open)
held=$((open_before < open_after ? open_before : open_after))
total=$((STALL_RAW + STALL_TLS))

if ((held == total)); then
    pass "$held/$total stalled connections held open during the checks"
else
    fail "only $held/$total stalled connections were open during the checks (stall.py took $(json "$tmp/stall.json" opened_in) s to open them; past ${HEADER_TIMEOUT} s the first ones are already closed — a busy machine?)"
fi
if ((slow == 0)); then
    pass "/healthz through nginx while they were held: 200 in ${times[*]} s"
else
    fail "/healthz through nginx while held: $slow of $CHECKS not 200 within 1 s (${times[*]})"
fi
[ "$hsts_held" = 1 ] && pass "HSTS still present (once) while held" ||
    fail "$hsts_held HSTS headers on /healthz while held"
[[ $app_direct = "200 "* ]] && pass "app /healthz directly while held: ${app_direct#* } s" ||
    fail "app /healthz directly while held: '$app_direct'"

say "Waiting for nginx to close them (client_header_timeout ${HEADER_TIMEOUT}s)"
stall_rc=0
wait "$stall_pid" || stall_rc=$?
stall_pid=''
closed=$(json "$tmp/stall-result.json" closed_by_server)
opened=$(json "$tmp/stall-result.json" opened)
raw_span="$(json "$tmp/stall-result.json" kinds.raw.min_s)–$(json "$tmp/stall-result.json" kinds.raw.max_s)"
tls_span="$(json "$tmp/stall-result.json" kinds.tls.min_s)–$(json "$tmp/stall-result.json" kinds.tls.max_s)"
max_life=$(python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))
print(max(k.get("max_s", 0) for k in r["kinds"].values()))' "$tmp/stall-result.json")
if ((stall_rc == 0)) && ((closed == opened)) && ((opened == total)) &&
    awk -v m="$max_life" -v t="$HEADER_TIMEOUT" 'BEGIN { exit !(m <= t + 5) }'; then
    pass "nginx closed $closed/$opened stalled connections (half ClientHello after $raw_span s, half request after $tls_span s)"
else
    fail "nginx closed $closed/$opened stalled connections (rc $stall_rc; lifetimes $raw_span / $tls_span s)"
fi
after=$("${curl_tls[@]}" --max-time 1 -o /dev/null -w '%{http_code}' "$base/healthz" || true)
[ "$after" = 200 ] && pass "/healthz through nginx afterwards: 200" || fail "/healthz afterwards: $after"
sleep 1
nginx_rss_after=$(rss_kib "$nginx_pid")
app_rss_after=$(rss_kib "$app_pid")

# --- Slow bodies from one address: limit_conn and client_body_timeout ---------------------------------
# A request whose body trickles in is a request in progress: limit_conn counts it, nginx (not the app)
# waits for the body, and client_body_timeout ends it.
body_stalls=$((CONN_LIMIT + 5))
say "$body_stalls slow POST bodies from one address (limit_conn $CONN_LIMIT, client_body_timeout ${BODY_TIMEOUT}s)"
# Posted to /logout: outside the sign-in limit_req, so every 429 here is limit_conn's.
python3 deploy/stall.py --port "$tls_port" --sni localhost --raw 0 --tls 0 --body "$body_stalls" \
    --body-path /logout --watch $((BODY_TIMEOUT + 10)) --status "$tmp/body.json" --result "$tmp/body-result.json" &
stall_pid=$!
phase=''
for _ in $(seq 300); do
    [ -s "$tmp/body.json" ] && phase=$(json "$tmp/body.json" phase)
    [ "$phase" = held ] || [ "$phase" = done ] && break
    kill -0 "$stall_pid" 2>/dev/null || break
    sleep 0.1
done
[ "$phase" = held ] || die "stall.py did not get its slow bodies sent (phase '$phase')"
same_addr=$("${curl_tls[@]}" --max-time 1 -o /dev/null -w '%{http_code}' "$base/healthz" || true)
other_addr=$("${curl_tls[@]}" --interface 127.0.0.2 --max-time 1 -o /dev/null -w '%{http_code} %{time_total}' \
    "$base/healthz" || true)
wait "$stall_pid" || true
stall_pid=''
refused=$(json "$tmp/body-result.json" kinds.body.statuses.429)
silent=$(json "$tmp/body-result.json" kinds.body.statuses.none)
body_span="$(json "$tmp/body-result.json" kinds.body.silent_min_s)–$(json "$tmp/body-result.json" kinds.body.silent_max_s)"
if [ "$refused" = 5 ] && [ "$silent" = "$CONN_LIMIT" ]; then
    pass "one address: $CONN_LIMIT slow bodies in progress, the next 5 refused with 429"
else
    fail "one address: expected $CONN_LIMIT held and 5 refused with 429, got held $silent, refused $refused"
fi
if [ "$same_addr" = 429 ] && [[ $other_addr = "200 "* ]]; then
    pass "meanwhile that address gets 429, another (127.0.0.2) gets /healthz: 200 in ${other_addr#* } s"
else
    fail "while one address is at its limit: same address '$same_addr', another address '$other_addr'"
fi
if [ "$(json "$tmp/body-result.json" kinds.body.still_open)" = 0 ] &&
    awk -v a="$(json "$tmp/body-result.json" kinds.body.silent_min_s)" \
        -v b="$(json "$tmp/body-result.json" kinds.body.silent_max_s)" -v t="$BODY_TIMEOUT" \
        'BEGIN { exit !(a >= t - 1 && b <= t + 5) }'; then
    pass "nginx ended the $CONN_LIMIT stalled bodies after $body_span s (client_body_timeout)"
else
    fail "stalled bodies: still open $(json "$tmp/body-result.json" kinds.body.still_open), closed after $body_span s"
fi

# --- Summary -----------------------------------------------------------------------------------------
per_conn=$(awk -v a="$nginx_rss_before" -v b="$nginx_rss_held" -v n="$total" \
    'BEGIN { printf "%.1f", (b - a) / n }')
say "Summary"
printf '%s\n' "${results[@]}"
printf '\n'
printf 'stalled connections held:  %s of %s (raw half-ClientHello %s, TLS half-request %s), opened in %s s\n' \
    "$held" "$total" "$STALL_RAW" "$STALL_TLS" "$(json "$tmp/stall-result.json" opened_in)"
printf 'healthz via nginx (held):  %s s\n' "${times[*]}"
printf 'closed by nginx:           %s of %s after client_header_timeout %ss\n' "$closed" "$opened" "$HEADER_TIMEOUT"
printf 'slow bodies, one address:  %s held, %s refused with 429, held ones ended after %s s\n' \
    "$silent" "$refused" "$body_span"
printf 'nginx RSS (all processes): before %s, held %s (~%s KiB per stalled connection), after %s\n' \
    "$(mib "$nginx_rss_before")" "$(mib "$nginx_rss_held")" "$per_conn" "$(mib "$nginx_rss_after")"
printf 'app RSS:                   before %s, held %s, after %s\n' \
    "$(mib "$app_rss_before")" "$(mib "$app_rss_held")" "$(mib "$app_rss_after")"
if ((failed)); then
    printf '\nFAIL (nginx error log: last lines below)\n'
    tail -n 20 "$tmp/nginx/logs/error.log" || true
    exit 1
fi
printf '\nPASS\n'
