#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster for the store tests and print the lines to export:
#
#   scripts/start_test_postgres.sh > /tmp/pg.env && . /tmp/pg.env    # or: eval "$(…)"
#   pytest -q tests/test_store.py
#   scripts/start_test_postgres.sh --stop "$GONGKAI_TEST_PG_DIR"
#
# The cluster lives in a fresh temp dir, listens on 127.0.0.1 only, on a free port, with
# trust authentication (test data only) and fsync off (speed; nothing here must survive).
# initdb refuses to run as root, so as root the server runs as the `postgres` OS user.
# Only the export lines go to stdout; progress and errors go to stderr.
set -euo pipefail

DB_USER=gongkai
DB_NAME=gongkai_test

# As root run a command as `postgres`; otherwise as ourselves (our own cluster).
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

find_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n $dir && -x $dir/initdb ]]; then echo "$dir"; return; fi
    if command -v initdb >/dev/null; then dirname "$(command -v initdb)"; return; fi
    echo "PostgreSQL server binaries not found: run scripts/install_system_packages.sh" >&2
    exit 1
}

free_port() {
    # The kernel picks a free port; a tiny race with other starters is acceptable here.
    if command -v python3 >/dev/null; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
        return
    fi
    local port
    for port in $(seq 54320 54420); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
    echo "no free port in 54320-54420" >&2
    exit 1
}

stop_cluster() {
    local dir=${1:?usage: $0 --stop DIR}
    [[ -d $dir/data ]] || { echo "no cluster in $dir" >&2; exit 1; }
    (cd "$dir" && as_owner "$(find_bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >&2) || true
    rm -rf "$dir"
}

start_cluster() {
    local bindir dir port
    bindir=$(find_bindir)
    if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
        echo "no postgres OS user: run scripts/install_system_packages.sh" >&2
        exit 1
    fi
    dir=$(mktemp -d "${TMPDIR:-/tmp}/gongkai-pg.XXXXXX")
    chmod 755 "$dir"
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
    cd "$dir"  # the postgres user may not be able to read the caller's cwd
    port=$(free_port)

    as_owner "$bindir/initdb" -D "$dir/data" -U "$DB_USER" --auth=trust -E UTF8 \
        --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >&2 \
        || { cat "$dir/server.log" >&2; exit 1; }
    as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U "$DB_USER" "$DB_NAME" >&2

    echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, data in $dir" >&2
    echo "export GONGKAI_TEST_PG_URL=postgresql+psycopg://$DB_USER@127.0.0.1:$port/$DB_NAME"
    echo "export GONGKAI_TEST_PG_DIR=$dir"
}

case "${1:-}" in
    --stop) stop_cluster "${2:-${GONGKAI_TEST_PG_DIR:-}}" ;;
    "") start_cluster ;;
    *) echo "usage: $0 [--stop DIR]" >&2; exit 2 ;;
esac
