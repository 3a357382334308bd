#!/usr/bin/env bash
# Provisions everything duban runs on, from the package registries only (seconds when warm):
#   - the npm dependencies (`npm ci`) when node_modules is missing or older than package-lock.json;
# and, into a cache shared by every checkout on the machine:
#   - the Temporal CLI (`temporal server start-dev`), built by `go install` of a pinned release;
#   - the Temporal Java time-skipping test server, resolved from Maven Central, with a launcher
#     that takes the port as its first argument (as the TypeScript SDK's testing package runs it);
#   - schemathesis and the georeport Open311 client, each in a venv from PyPI (for the API tests);
# and, with --browser (the tests: `npm test`, .ci/run), system-wide, Debian's `chromium` and
# `fonts-noto-cjk` packages (apt-get) for the browser tests of the web pages (playwright-core drives
# /usr/bin/chromium; no browser is ever downloaded from elsewhere). `npm start` needs no browser.
# With --postgres (.ci/run), Debian's `postgresql` package (server and contrib, pg_trgm among them)
# for the tests of the read model on PostgreSQL (scripts/postgres-test-server.sh starts a throwaway
# cluster); no cluster of the package's own is created.
# Used by `npm start`, `npm test`, `npm run bench` and .ci/run. With --json it prints the paths;
# with --no-npm it leaves node_modules alone (for a running process that only needs the binaries).
set -euo pipefail

json=false
npm_deps=true
browser=false
postgres=false
for arg in "$@"; do
  case "$arg" in
    --json) json=true ;;
    --no-npm) npm_deps=false ;;
    --browser) browser=true ;;
    --postgres) postgres=true ;;
    *) echo "usage: provision.sh [--json] [--no-npm] [--browser] [--postgres]" >&2; exit 2 ;;
  esac
done

TEMPORAL_CLI_VERSION="v1.5.1" # newest release whose go.mod has no replace directive
TEST_SERVER_VERSION="1.38.0"
SCHEMATHESIS_VERSION="4.32.5"
GEOREPORT_VERSION="0.3.1" # an Open311 GeoReport v2 client, to test the Open311 API as its clients use it

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${DUBAN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/duban}"
cli_dir="$cache/temporal-cli/$TEMPORAL_CLI_VERSION"
cli="$cli_dir/temporal"
ts_dir="$cache/temporal-test-server/$TEST_SERVER_VERSION"
ts_launcher="$ts_dir/temporal-test-server"
st_dir="$cache/schemathesis/$SCHEMATHESIS_VERSION"
st="$st_dir/bin/st"
gr_dir="$cache/georeport/$GEOREPORT_VERSION"
gr_python="$gr_dir/bin/python3"

log() { printf '[provision] %s\n' "$*" >&2; }

mkdir -p "$cache"
# One provisioner at a time per machine: parallel test workers or a second `npm start` wait here.
exec 9>"$cache/.provision.lock"
flock 9

root="$(cd "$here/.." && pwd)"
lock_hash="$(sha256sum "$root/package-lock.json" | cut -d' ' -f1)"
if $npm_deps && [[ "$(cat "$root/node_modules/.duban-lock-hash" 2>/dev/null || true)" != "$lock_hash" ]]; then
  log "installing npm dependencies (npm ci)"
  (cd "$root" && npm ci --no-audit --no-fund >&2)
  printf '%s\n' "$lock_hash" >"$root/node_modules/.duban-lock-hash"
fi


if [[ ! -x "$cli" ]]; then
  command -v go >/dev/null || { log "Go is required to build the Temporal CLI (go install)"; exit 1; }
  log "building Temporal CLI $TEMPORAL_CLI_VERSION with go install (a few minutes, once per machine)"
  tmp="$(mktemp -d "$cache/.cli.XXXXXX")"
  GOBIN="$tmp" GOFLAGS="${GOFLAGS:-} -trimpath" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
  mkdir -p "$cli_dir"
  mv "$tmp/temporal" "$cli"
  rmdir "$tmp"
fi

if [[ ! -x "$ts_launcher" ]]; then
  command -v mvn >/dev/null || { log "Maven is required to resolve the Temporal test server"; exit 1; }
  command -v java >/dev/null || { log "Java 17+ is required to run the Temporal test server"; exit 1; }
  log "resolving Temporal test server $TEST_SERVER_VERSION from Maven Central"
  tmp="$(mktemp -d "$cache/.ts.XXXXXX")"
  mvn -q -B -f "$here/test-server/pom.xml" \
    -Dtemporal.test-server.version="$TEST_SERVER_VERSION" \
    dependency:build-classpath -Dmdep.outputFile="$tmp/classpath.txt" >&2
  # A JVM argument file keeps the launcher a single exec; a class-data-sharing archive, written
  # by a first dry start, cuts JVM start-up so the server listens within the SDK's start window.
  {
    printf -- '-XX:+UseSerialGC\n-XX:TieredStopAtLevel=1\n-Xss512k\n'
    printf -- '-cp\n%s\n' "$(cat "$tmp/classpath.txt")"
  } >"$tmp/jvm.args"
  java -XX:ArchiveClassesAtExit="$tmp/classes.jsa" @"$tmp/jvm.args" \
    io.temporal.testserver.TestServer 0 >/dev/null 2>&1 &
  pid=$!
  sleep 4
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  mkdir -p "$ts_dir"
  mv "$tmp/jvm.args" "$tmp/classpath.txt" "$ts_dir/"
  jsa_opt=""
  if [[ -s "$tmp/classes.jsa" ]]; then
    mv "$tmp/classes.jsa" "$ts_dir/"
    jsa_opt="-XX:SharedArchiveFile=$ts_dir/classes.jsa -Xshare:auto"
  fi
  rm -rf "$tmp"
  cat >"$ts_dir/launcher.tmp" <<LAUNCHER
#!/bin/sh
# Temporal time-skipping test server $TEST_SERVER_VERSION; first argument: the port.
exec java $jsa_opt @"$ts_dir/jvm.args" io.temporal.testserver.TestServer "\$@"
LAUNCHER
  chmod +x "$ts_dir/launcher.tmp"
  mv "$ts_dir/launcher.tmp" "$ts_launcher"
fi

# A Python tool in a venv of its own under the cache, from PyPI: install_venv DIR PACKAGE==VERSION.
install_venv() {
  local dir="$1" requirement="$2" tmp
  command -v python3 >/dev/null || { log "Python 3 is required for $requirement (API tests)"; exit 1; }
  log "installing $requirement from PyPI"
  tmp="$(mktemp -d "$cache/.venv.XXXXXX")"
  python3 -m venv "$tmp/venv"
  "$tmp/venv/bin/pip" install --quiet --disable-pip-version-check "$requirement" >&2
  mkdir -p "$(dirname "$dir")"
  rm -rf "$dir"
  # A venv is tied to its path: move it into place, then rewrite the interpreter paths once.
  mv "$tmp/venv" "$dir"
  rmdir "$tmp"
  grep -rl --null "$tmp/venv" "$dir/bin" | xargs -0 sed -i "s|$tmp/venv|$dir|g"
}

[[ -x "$st" ]] || install_venv "$st_dir" "schemathesis==$SCHEMATHESIS_VERSION"
[[ -x "$gr_python" ]] || install_venv "$gr_dir" "georeport==$GEOREPORT_VERSION"

# Debian's chromium for the browser tests, and CJK fonts so that its pages and screenshots show
# Chinese; apt lists are refreshed only when older than a day.
cjk_font=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
if $browser && [[ ! -x /usr/bin/chromium || ! -f "$cjk_font" ]]; then
  command -v apt-get >/dev/null || { log "apt-get is required to install chromium (browser tests)"; exit 1; }
  sudo_cmd=()
  [[ "$(id -u)" -eq 0 ]] || sudo_cmd=(sudo -n)
  log "installing Debian's chromium and fonts-noto-cjk with apt-get (once per machine)"
  if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 -print -quit 2>/dev/null)" ]]; then
    "${sudo_cmd[@]}" apt-get update -qq >&2
  fi
  # Quiet: only errors reach the log (dpkg's progress would drown it).
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 \
    chromium fonts-noto-cjk >/dev/null
fi

# Debian's PostgreSQL for the read-model tests on PostgreSQL; the package would create and start a
# cluster of its own ("main", port 5432), which the tests never use: createcluster.conf says not to.
if $postgres && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  command -v apt-get >/dev/null || { log "apt-get is required to install PostgreSQL (read-model tests)"; exit 1; }
  sudo_cmd=()
  [[ "$(id -u)" -eq 0 ]] || sudo_cmd=(sudo -n)
  log "installing Debian's postgresql with apt-get (once per machine)"
  if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
    "${sudo_cmd[@]}" mkdir -p /etc/postgresql-common
    echo 'create_main_cluster = false' | "${sudo_cmd[@]}" tee /etc/postgresql-common/createcluster.conf >/dev/null
  fi
  if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 -print -quit 2>/dev/null)" ]]; then
    "${sudo_cmd[@]}" apt-get update -qq >&2
  fi
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 \
    postgresql >/dev/null
fi

if $json; then
  printf '{"temporalCli":"%s","testServer":"%s","schemathesis":"%s","georeportPython":"%s","temporalCliVersion":"%s","testServerVersion":"%s","chromium":"%s"}\n' \
    "$cli" "$ts_launcher" "$st" "$gr_python" "$TEMPORAL_CLI_VERSION" "$TEST_SERVER_VERSION" /usr/bin/chromium
else
  log "Temporal CLI $TEMPORAL_CLI_VERSION: $cli"
  log "Temporal test server $TEST_SERVER_VERSION: $ts_launcher"
  log "schemathesis $SCHEMATHESIS_VERSION: $st"
  log "georeport $GEOREPORT_VERSION: $gr_python"
  if [[ -x /usr/bin/chromium ]]; then log "chromium: /usr/bin/chromium"; fi
  if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then log "PostgreSQL: $(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"; fi
fi
