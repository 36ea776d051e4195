#!/usr/bin/env bash
# Usage: scripts/with-postgres.sh CMD [ARGS...]
#
# Runs CMD with a private, throwaway PostgreSQL cluster and exports
#   GLOSS_TEST_POSTGRES_URL=postgres://gloss@127.0.0.1:PORT/gloss_test
# The role `gloss` is a password-less (trust) superuser, so tests may create
# their own databases. The cluster lives in a fresh temp dir, listens only on
# 127.0.0.1 (plus a unix socket inside the temp dir) on a free port, and is
# stopped and deleted when this script exits. CMD's exit status is passed on.
#
# Any system cluster (e.g. Debian's default one on 5432) is left alone.
set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

log() { printf 'with-postgres: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

is_root() { [[ $(id -u) -eq 0 ]]; }

# Directory of the PostgreSQL server binaries (initdb, pg_ctl, postgres).
# Debian keeps them in /usr/lib/postgresql/VERSION/bin, which is not on PATH;
# elsewhere (e.g. Homebrew) they usually are on PATH.
find_pg_bin() {
    local dir
    dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    if [[ -x $dir/initdb ]]; then
        echo "$dir"
    elif command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
    else
        return 1
    fi
}

setup_start=$SECONDS

if ! pg_bin=$(find_pg_bin); then
    if ! is_root || ! command -v apt-get >/dev/null 2>&1; then
        die "PostgreSQL server binaries (initdb) not found. Install them first," \
            "e.g. 'sudo apt-get install -y postgresql' on Debian/Ubuntu."
    fi
    log "installing PostgreSQL (apt-get install postgresql)"
    # Debian's postinst may create and start a default cluster on 5432;
    # we neither use nor touch it.
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q postgresql
    pg_bin=$(find_pg_bin) || die "initdb still not found after installing postgresql"
fi

# initdb and postgres refuse to run as root, so as root the cluster belongs
# to the `postgres` OS user (created by Debian's postgresql-common package).
if is_root; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' OS user"
    # /tmp rather than $TMPDIR: the postgres user must be able to reach it.
    tmp=$(mktemp -d /tmp/gloss-pg.XXXXXX)
    chown postgres: "$tmp"
    as_owner() { (cd "$tmp" && runuser -u postgres -- "$@"); }
else
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/gloss-pg.XXXXXX")
    as_owner() { (cd "$tmp" && "$@"); }
fi
data=$tmp/data

# shellcheck disable=SC2317 # only reached through the trap
cleanup() {
    # Stop only the server we started (identified by our data dir).
    if [[ -f $data/postmaster.pid ]]; then
        as_owner "$pg_bin/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
            as_owner "$pg_bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 ||
            log "warning: could not stop the server in $data"
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
# Turn signals into a normal exit so the EXIT trap cleans up.
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# --no-sync: the cluster is thrown away, no need to flush initdb's files.
as_owner "$pg_bin/initdb" -D "$data" -U gloss --auth=trust \
    --no-locale --encoding=UTF8 --no-sync >"$tmp/initdb.log" 2>&1 ||
    { cat "$tmp/initdb.log" >&2; die "initdb failed"; }

# --auth=trust above writes pg_hba.conf lines that trust local and
# 127.0.0.1/::1 connections; nothing else can connect.
# fsync=off: nothing here needs to survive a crash, and it makes the many
# CREATE DATABASEs that the tests run much faster.
cat >>"$data/postgresql.conf" <<EOF

# --- added by scripts/with-postgres.sh ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$tmp'
max_connections = 200
fsync = off
EOF

# Pick a port outside Linux's ephemeral range (32768-60999) that nothing
# listens on, then start. Another process may grab it in between, so retry.
port=
for _ in 1 2 3 4 5 6 7 8 9 10; do
    candidate=$((20000 + RANDOM % 10000))
    # A successful connect means something already listens there.
    if (: <"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
        continue
    fi
    if as_owner "$pg_bin/pg_ctl" -D "$data" -l "$tmp/server.log" -w -t 60 \
        -o "-p $candidate" start >/dev/null; then
        port=$candidate
        break
    fi
done
if [[ -z $port ]]; then
    cat "$tmp/server.log" >&2 || true
    die "could not start PostgreSQL"
fi

"$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U gloss -d postgres \
    -c 'CREATE DATABASE gloss_test' >/dev/null

export GLOSS_TEST_POSTGRES_URL="postgres://gloss@127.0.0.1:$port/gloss_test"
log "PostgreSQL ready at $GLOSS_TEST_POSTGRES_URL ($((SECONDS - setup_start))s)"

status=0
"$@" || status=$?
exit "$status"
