# bench/lib.sh -- helpers for tern's benchmark scripts (dhcp4.sh, d2.sh).
# Source it:   . "$(dirname "$0")/lib.sh"
#
# Rules these helpers enforce:
#  * network: every packet stays inside a network namespace we create ($NS, only `lo`,
#    with 127.0.0.1/8 and 127.0.0.2/8). Nothing is sent to a host interface.
#  * processes: every server is a child started by start_bg and stopped by its PID
#    (stop_pid); nothing is ever killed by name.
#  * cleanup: bench_cleanup (installed as EXIT trap by bench_init) stops what we started,
#    stops the private PostgreSQL cluster, and deletes the namespace.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
TERN=${TERN:-$REPO_DIR/target/release/tern}
PY=/usr/bin/python3                       # Debian python with python3-dnspython
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_PORT=${PG_PORT:-55442}                 # private cluster for Kea-on-PostgreSQL
NS=${NS:-ternbench}                       # our own netns (not the peers' "tbench")

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

# bench_init NAME : scratch dir $WORK, namespace, EXIT trap
bench_init() {
    WORK=${WORK:-/tmp/tern-bench-$1}
    rm -rf "$WORK"; mkdir -p "$WORK"; chmod 755 "$WORK"
    export WORK
    STARTED=()                            # names of processes started by start_bg
    PG_DIRS=()
    ns_up
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}
bench_cleanup() {
    local n d
    for n in "${STARTED[@]}"; do stop_pid "$n"; done
    for d in "${PG_DIRS[@]}"; do pg_stop "$d"; done
    ns_down
}

# ---- network namespace ---------------------------------------------------------------
ns_up() {
    if ! ip netns list | awk '{print $1}' | grep -qx "$NS"; then
        ip netns add "$NS" || die "ip netns add $NS"
    fi
    ip -n "$NS" link set lo up
    ip -n "$NS" addr add 127.0.0.2/8 dev lo 2>/dev/null || true
}
ns_down() {
    ip netns list | awk '{print $1}' | grep -qx "$NS" && ip netns del "$NS"
    return 0
}
inns() { ip netns exec "$NS" "$@"; }

# ---- processes -----------------------------------------------------------------------
# start_bg NAME LOGFILE CMD... : run CMD in the background (inside nothing special; put
# `ip netns exec` in CMD yourself), PID in $WORK/NAME.pid
start_bg() {
    local name=$1 out=$2; shift 2
    ( exec "$@" >"$out" 2>&1 ) &
    echo $! >"$WORK/$name.pid"
    STARTED+=("$name")
    log "started $name (pid $!): $*"
}
pid_of() { cat "$WORK/$1.pid" 2>/dev/null; }
alive() { local p; p=$(pid_of "$1") && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
# stop_pid NAME : SIGTERM, wait up to ${STOP_WAIT:-10} s, then SIGKILL. By PID only.
stop_pid() {
    local name=$1 pid i
    pid=$(pid_of "$name") || return 0
    [ -n "$pid" ] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for i in $(seq $(( ${STOP_WAIT:-10} * 10 ))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            log "WARNING: $name (pid $pid) ignored SIGTERM for ${STOP_WAIT:-10} s, SIGKILL"
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
    wait "$pid" 2>/dev/null
    rm -f "$WORK/$name.pid"
}
# rss_kb PID : VmRSS of that process in kB
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# tree_rss_kb PID : summed VmRSS of PID's descendants (not PID itself). Shared memory
# (PostgreSQL shared_buffers) is counted once per process that touched it: an upper bound.
tree_rss_kb() {
    local kids k sum=0
    kids=$(ps -o pid= --ppid "$1" 2>/dev/null)
    for k in $kids; do
        sum=$(( sum + $(rss_kb "$k") + $(tree_rss_kb "$k") ))
    done
    echo "$sum"
}

# wait_udp ADDR PORT [SECS] : until a UDP socket is bound to ADDR:PORT (or *:PORT) in $NS
wait_udp() {
    local a=$1 p=$2 t=${3:-20} i
    for i in $(seq $((t * 10))); do
        inns ss -Huln "sport = :$p" 2>/dev/null | awk '{print $4}' | sed 's/%[^:]*//' | grep -qE "^($a|0\.0\.0\.0|\*):$p\$" && return 0
        sleep 0.1
    done
    return 1
}
# wait_log FILE REGEX [SECS]
wait_log() {
    local f=$1 re=$2 t=${3:-30} i
    for i in $(seq $((t * 10))); do
        grep -qE "$re" "$f" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# ---- private PostgreSQL 15 for Kea's lease-database (inside $NS, 127.0.0.1:$PG_PORT) ----
# Defaults kept (fsync on, synchronous_commit on) -- the same durability tern's embedded
# cluster has; shared_buffers 256MB.
pg_start() {   # pg_start DIR
    local d=$1
    mkdir -p "$d"; chown postgres: "$d"
    su postgres -s /bin/sh -c "$PG_BIN/initdb -D $d/data -A trust -U postgres" >"$d/initdb.log" 2>&1 \
        || die "initdb failed: $(tail -3 "$d/initdb.log")"
    inns su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D $d/data -l $d/pg.log -w -t 60 -o \"-p $PG_PORT -k $d -c listen_addresses=127.0.0.1 -c shared_buffers=256MB\" start" >/dev/null \
        || die "pg_ctl start failed: $(tail -3 "$d/pg.log")"
    PG_DIRS+=("$d")
    log "PostgreSQL (Kea's) up in netns $NS at 127.0.0.1:$PG_PORT, data $d/data"
}
pg_stop() {
    local d=$1
    [ -f "$d/data/postmaster.pid" ] || return 0
    su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D $d/data -m fast -w -t 30 stop" >/dev/null 2>&1 || true
}
psql_ns() { inns "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAtX "$@"; }
# kea_db DB : (re)create DB owned by role kea/kea with Kea's schema from kea-admin db-init
kea_db() {
    local db=$1
    psql_ns -d postgres -c "SET client_min_messages=warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    psql_ns -d postgres -c "DO \$\$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname='kea')
        THEN CREATE ROLE kea LOGIN PASSWORD 'kea'; END IF; END\$\$" -c "ALTER DATABASE $db OWNER TO kea" >/dev/null
    inns kea-admin db-init pgsql -h 127.0.0.1 -P "$PG_PORT" -u kea -p kea -n "$db" >"$WORK/kea-admin-$db.log" 2>&1 \
        || die "kea-admin db-init pgsql failed: $(tail -3 "$WORK/kea-admin-$db.log")"
}

# Kea run by hand needs writable pid/lock dirs.
kea_env() { export KEA_PIDFILE_DIR="$WORK" KEA_LOCKFILE_DIR="$WORK"; }

# ---- tern ----------------------------------------------------------------------------
tern_built() { [ -x "$TERN" ] || die "$TERN missing: cd $REPO_DIR && cargo build --release"; }
# tern_template_data DIR CONF ADDR PORT : start tern once on CONF with data dir DIR so its
# embedded cluster is initialised (initdb + migrations), wait until it listens on
# ADDR:PORT (UDP; its logs may be at WARN, so no TERN_READY line), then stop it. Copies of
# DIR (cp -a) give later steps a fresh, empty store without paying initdb each time.
tern_template_data() {
    local dir=$1 conf=$2 out="$WORK/tern-template.out"
    start_bg tern-template "$out" ip netns exec "$NS" "$TERN" serve -c "$conf" --data-dir "$dir"
    wait_udp "$3" "$4" 120 || { tail -20 "$out"; die "tern did not come up (template)"; }
    sleep 1
    stop_pid tern-template
}

# ---- BIND 9 with TSIG (hmac-sha256), forward zone example.com, reverse 10.in-addr.arpa ----
KEYNAME=${KEYNAME:-tern-bench-key}
# bind_setup DIR PORT : fresh config + zone files in DIR; sets KEYSECRET
bind_setup() {
    local d=$1 port=$2
    rm -rf "$d"; mkdir -p "$d/zones"
    tsig-keygen -a hmac-sha256 "$KEYNAME" >"$d/key.conf"
    KEYSECRET=$(sed -n 's/.*secret "\(.*\)";.*/\1/p' "$d/key.conf")
    local z
    for z in example.com 10.in-addr.arpa; do
        cat >"$d/zones/$z.db" <<EOF
\$TTL 300
@   IN SOA ns.example.com. hostmaster.example.com. ( 1 3600 600 86400 300 )
    IN NS  ns.example.com.
EOF
    done
    echo "ns.example.com. 300 IN A 127.0.0.1" >>"$d/zones/example.com.db"
    cat >"$d/named.conf" <<EOF
include "$d/key.conf";
options {
    directory "$d/zones";
    pid-file "$d/named.pid";
    listen-on port $port { 127.0.0.1; };
    listen-on-v6 { none; };
    recursion no; notify no; dnssec-validation no;
    allow-transfer { 127.0.0.1; };
    minimal-responses yes;
};
controls { };
logging { channel f { file "$d/named.log"; severity warning; print-time yes; };
          category default { f; }; category update { f; }; };
zone "example.com"     { type primary; file "example.com.db";     allow-update { key "$KEYNAME"; }; };
zone "10.in-addr.arpa" { type primary; file "10.in-addr.arpa.db"; allow-update { key "$KEYNAME"; }; };
EOF
    named-checkconf "$d/named.conf" || die "named.conf invalid"
    export KEYSECRET
}
# bind_start DIR PORT : named -f in $NS (NAMED_THREADS, default 1: the 2nd core belongs to
# the D2 under test and the load generator)
bind_start() {
    local d=$1 port=$2
    start_bg named "$d/named.out" ip netns exec "$NS" named -f -c "$d/named.conf" -n "${NAMED_THREADS:-1}"
    wait_udp 127.0.0.1 "$port" 20 || { tail "$d/named.out" "$d/named.log"; die "named not up"; }
}

# named_net_split : CPU ticks of each of named's isc-net-* worker threads, largest first,
# "a/b/...". A BIND started with -n 2 puts its forward and reverse zone on one worker
# thread (then it runs like -n 1: ~60 % of a core, fsync-bound) or on two (faster),
# seemingly by chance, for its whole life: this shows which kind of BIND a step had (d2_rounds.sh).
named_net_split() {
    local p t; p=$(pid_of named)
    for t in /proc/"$p"/task/*; do
        case $(cat "$t/comm" 2>/dev/null) in isc-net-*) awk '{print $14 + $15}' "$t/stat" ;; esac
    done | sort -rn | paste -sd/
}

# d2_conf KEYSECRET : the one kea-dhcp-ddns.conf both D2s run (d2.sh, d2_bracket.sh):
# NCRs on 127.0.0.1:$NCRPORT, BIND on 127.0.0.1:$DNSPORT, log to $WORK/d2.log at $D2_SEVERITY
d2_conf() {
    cat >"$WORK/kea-dhcp-ddns.json" <<EOF
// rendered by tern bench/$(basename "$0"): Kea 2.2 kea-dhcp-ddns; tern serves it unchanged
{ "DhcpDdns": {
  "ip-address": "127.0.0.1", "port": $NCRPORT,
  "dns-server-timeout": 1000,
  "ncr-protocol": "UDP", "ncr-format": "JSON",
  "tsig-keys": [ { "name": "$KEYNAME", "algorithm": "HMAC-SHA256", "secret": "$1" } ],
  "forward-ddns": { "ddns-domains": [
      { "name": "example.com.", "key-name": "$KEYNAME",
        "dns-servers": [ { "ip-address": "127.0.0.1", "port": $DNSPORT } ] } ] },
  "reverse-ddns": { "ddns-domains": [
      { "name": "10.in-addr.arpa.", "key-name": "$KEYNAME",
        "dns-servers": [ { "ip-address": "127.0.0.1", "port": $DNSPORT } ] } ] },
  "loggers": [ { "name": "kea-dhcp-ddns", "severity": "$D2_SEVERITY",
                 "output_options": [ { "output": "$WORK/d2.log" } ] } ]
} }
EOF
}

# udp_rcvbuf_errors : the netns' UDP RcvbufErrors counter (datagrams the kernel dropped
# because a socket's receive buffer was full)
udp_rcvbuf_errors() {
    inns awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 } else print $c }' /proc/net/snmp
}

# ---- small numeric helpers -------------------------------------------------------------
fdiv() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b+0 == 0) print "n/a"; else printf "%.2f", a/b }'; }
