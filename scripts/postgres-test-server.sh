#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, from Debian's packages (scripts/provision.sh
# --postgres installs them):
#   postgres-test-server.sh start   initdb into a fresh temporary directory, start the server on
#                                   127.0.0.1 on a free port (its unix socket in that directory)
#                                   and print two shell assignments: PG_TEST_DIR=… and
#                                   DUBAN_TEST_DATABASE=postgres://postgres@127.0.0.1:PORT/postgres
#   postgres-test-server.sh stop DIR
#                                   stop that server and remove its directory.
# Trust authentication on loopback only, and durability off (fsync): the data is thrown away.
# As root, the server runs as the `postgres` user Debian's package creates (PostgreSQL refuses root).
set -euo pipefail

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
[[ -x "$bindir/initdb" ]] || { echo "[postgres] no PostgreSQL server binaries under /usr/lib/postgresql (provision.sh --postgres)" >&2; exit 1; }

as_owner() {
  if [[ "$(id -u)" -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    dir="$(mktemp -d "${TMPDIR:-/tmp}/duban-pg.XXXXXX")"
    chmod 700 "$dir"
    [[ "$(id -u)" -ne 0 ]] || chown postgres: "$dir"
    port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
    (cd "$dir" && as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1) ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    (cd "$dir" && as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
      "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >&2) ||
      { cat "$dir/server.log" >&2; exit 1; }
    printf 'PG_TEST_DIR=%q\nDUBAN_TEST_DATABASE=%q\n' "$dir" "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    dir="${2:?usage: postgres-test-server.sh stop DIR}"
    [[ -d "$dir/data" ]] && (cd "$dir" && as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true)
    rm -rf "$dir"
    ;;
  *)
    echo "usage: postgres-test-server.sh start | stop DIR" >&2
    exit 2
    ;;
esac
