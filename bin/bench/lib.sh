# Shared by bin/benchmark-receive and bin/benchmark-e2e (sourced, not run): the jar, the build
# lock, phantom series, free ports, the node and dcmtk peers as child processes, and cleanup.
# Callers set ROOT and `set -euo pipefail` first.

# Maven builds on this machine serialise on this lock; a benchmark holds it while it measures so
# that no build competes for the cores.
BUILD_LOCK="${CT_MVN_LOCK:-/tmp/ct-mvn.lock}"
JAR="$ROOT/plugin/target/ct-triage.jar"
BENCH_CACHE="$ROOT/target/bench"
CHILD_PIDS=()
BENCH_TMP=""
KEEP_TMP=0
NO_BUILD=0

# True when this shell inherited an open descriptor on the lock, i.e. runs under `flock LOCK cmd`.
holds_build_lock() {
  local fd
  for fd in /proc/$$/fd/*; do
    [ "$(readlink "$fd" 2>/dev/null)" = "$BUILD_LOCK" ] && return 0
  done
  return 1
}

# Builds the node when the jar is missing or older than any main source or pom (as bin/ct-triage).
# `package`, not `install`: the jar runs from plugin/target, and ~/.m2 is shared by every
# worktree on the machine, so a benchmark must not publish its modules there.
# NO_BUILD=1 (--no-build) takes the jar as it is, for a working tree that is mid-edit.
ensure_jar() {
  "$ROOT/bin/setup"
  if [ "$NO_BUILD" = 1 ] && [ -f "$JAR" ]; then
    echo "using $JAR as built at $(date -r "$JAR" '+%F %T') (--no-build)" >&2
    return 0
  fi
  if [ -f "$JAR" ] && [ -z "$(find "$ROOT" -path "$ROOT/.git" -prune -o -path "$ROOT/target" -prune -o \
      \( -name pom.xml -o -path '*/src/main/*' \) -type f -newer "$JAR" -print -quit)" ]; then
    return 0
  fi
  echo "building ct-triage (jar missing or stale)..." >&2
  if holds_build_lock; then
    (cd "$ROOT" && mvn -B -ntp -o -q -DskipTests package) >&2
  else
    (cd "$ROOT" && flock "$BUILD_LOCK" mvn -B -ntp -o -q -DskipTests package) >&2
  fi
}

# Re-runs the calling script under the build lock unless it already holds it (started as
# `flock LOCK bin/benchmark-…`, or re-run by this function). Call after ensure_jar.
hold_build_lock() {
  if ! holds_build_lock; then
    echo "waiting for $BUILD_LOCK (no Maven build may compete while measuring)..." >&2
    exec flock "$BUILD_LOCK" "$0" "$@"
  fi
}

# A phantom series in the cache, generated once: generate_series DIR SEED SERIES_NUMBER MATRIX SLICES.
# Same generator options as bin/benchmark-volume (1.25 mm slices, random findings); the series
# number makes distinct Series/SOP Instance UIDs over identical pixel data.
generate_series() {
  local dir=$1 seed=$2 number=$3 matrix=$4 slices=$5
  if [ ! -f "$dir/truth.json" ]; then
    echo "generating ${matrix}x${matrix}x${slices} series (seed $seed, series number $number) in $dir" >&2
    java -Dct-triage.home="$ROOT" -jar "$JAR" generate --out "$dir" --seed "$seed" --series-number "$number" \
      --matrix "$matrix" --slices "$slices" --slice-spacing 1.25 --random >/dev/null
    rm -f "$dir"/*.npy  # ground-truth arrays: only the DICOM files are sent
  fi
}

series_bytes() { du -sb --apparent-size "$1/dicom" | cut -f1; }

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

now() { echo "$EPOCHREALTIME"; }

make_tmp() {
  BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ct-bench.XXXXXX")
}

# Starts a child in the background (own stdout/stderr files), remembers its pid in LAST_PID.
spawn() {
  local log=$1
  shift
  "$@" >"$log.out" 2>"$log.err" &
  LAST_PID=$!
  CHILD_PIDS+=("$LAST_PID")
}

# Stops one child by pid: SIGTERM, up to 15 s grace, then SIGKILL.
stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local i
  for ((i = ${#CHILD_PIDS[@]} - 1; i >= 0; i--)); do
    stop_pid "${CHILD_PIDS[i]}"
  done
  if ((${#PG_STOP[@]})); then "${PG_STOP[@]}" >/dev/null 2>&1 || true; fi
  if [ -n "$BENCH_TMP" ]; then
    if [ "$KEEP_TMP" = 1 ]; then echo "kept $BENCH_TMP" >&2; else rm -rf "$BENCH_TMP"; fi
  fi
}

# dcmtk storescp (no --fork) writing into DIR: start_storescp NAME AET PORT DIR [extra options].
# storescp has no bind-address option: it listens on all interfaces; every peer here calls 127.0.0.1.
start_storescp() {
  local name=$1 aet=$2 port=$3 dir=$4
  shift 4
  mkdir -p "$dir"
  spawn "$BENCH_TMP/$name" env TCP_NODELAY=1 storescp --aetitle "$aet" --output-directory "$dir" "$@" "$port"
  local pid=$LAST_PID i
  for i in $(seq 100); do
    if echoscu -aet BENCH -aec "$aet" 127.0.0.1 "$port" >/dev/null 2>&1; then return 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "storescp did not start; see $BENCH_TMP/$name.err" >&2
  cat "$BENCH_TMP/$name.err" >&2
  return 1
}

# PostgreSQL for the node (database.url): a throw-away Debian PostgreSQL 15 cluster in the temp
# folder on 127.0.0.1 and a free port, database "node" for role "ctt" (trust, loopback only); as
# root the cluster belongs to the postgres user. Sets PG_URL; cleanup stops it.
PG_BIN=/usr/lib/postgresql/15/bin
PG_STOP=()
start_postgres() {
  local home="$BENCH_TMP/postgres" port as=()
  port=$(free_port)
  mkdir -p "$home"
  if [ "$(id -u)" -eq 0 ]; then
    chmod 711 "$BENCH_TMP"
    chown postgres:postgres "$home"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$PG_BIN/initdb" -D "$home/data" -U ctt --auth=trust -E UTF8 --locale=C.UTF-8 >"$home/initdb.log" 2>&1
  "${as[@]}" "$PG_BIN/pg_ctl" -D "$home/data" -l "$home/postgres.log" -w \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $home" start >/dev/null
  PG_STOP=("${as[@]}" "$PG_BIN/pg_ctl" -D "$home/data" -m fast -w stop)
  "${as[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U ctt node
  PG_URL="jdbc:postgresql://127.0.0.1:$port/node"
}

# The node: start_node NAME CONFIG [JVM options…]; waits until it says it is running, sets NODE_PID.
# Log lines carry wall-clock timestamps (slf4j-simple) so scripts can read the node's own timings.
start_node() {
  local name=$1 config=$2
  shift 2
  spawn "$BENCH_TMP/$name" env TCP_NODELAY=1 java "$@" \
    -Dorg.slf4j.simpleLogger.showDateTime=true \
    "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSZ" \
    -Djdk.xml.xpathTotalOpLimit=0 -Djdk.xml.xpathExprOpLimit=0 -Djdk.xml.xpathExprGrpLimit=0 \
    -Dct-triage.home="$ROOT" -jar "$JAR" serve --config "$config" --demo-studies 0
  NODE_PID=$LAST_PID
  local i
  for i in $(seq 600); do
    grep -q '^running' "$BENCH_TMP/$name.out" 2>/dev/null && return 0
    kill -0 "$NODE_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "the node did not start; see $BENCH_TMP/$name.err" >&2
  tail -20 "$BENCH_TMP/$name.err" >&2
  return 1
}

# Sends every file of a series with dcmtk storescu, explicit VR little endian proposed first and
# only the presentation contexts the files need: send_series AEC PORT SERIES_DIR LOG. Sets
# SEND_T0 / SEND_T1 (epoch seconds around storescu) and SEND_SECONDS. Call it in this shell.
send_series() {
  local aec=$1 port=$2 dir=$3 log=$4
  SEND_T0=$(now)
  if ! TCP_NODELAY=1 storescu --aetitle BENCH --call "$aec" --propose-little --required \
      127.0.0.1 "$port" "$dir"/dicom/*.dcm >"$log" 2>&1; then
    echo "storescu to $aec failed; see $log" >&2
    tail -5 "$log" >&2
    return 1
  fi
  SEND_T1=$(now)
  SEND_SECONDS=$(awk -v a="$SEND_T0" -v b="$SEND_T1" 'BEGIN { printf "%.6f", b - a }')
}

# The transfer syntax recorded in a received file's meta information (0002,0010).
transfer_syntax_of() {
  dcmdump -q -Un +P 0002,0010 "$1" | sed -n 's/.*UI \[\([^]]*\)\].*/\1/p'
}

# Orthanc (Debian's 1.10.1) as a receiver, as test-data's OrthancServer starts it: a throw-away
# instance whose storage and SQLite index live in DIR, DICOM and HTTP on free ports, REST API for
# this host only, stores accepted only from AE title BENCH at 127.0.0.1 (Orthanc cannot be told
# which address to listen on). start_orthanc DIR AET PDU; sets ORTHANC_PID, ORTHANC_PORT and
# ORTHANC_HTTP. SyncStorageArea is written out at its 1.10 default (true: fsync of every stored
# file before the answer); its SQLite index runs with JOURNAL_MODE=WAL and SYNCHRONOUS=NORMAL
# (the pragmas in the binary): a commit survives a crash of Orthanc but is fsynced only at WAL
# checkpoints — as the node's H2, written through without an fsync, beside a fsynced file. StableAge
# is an hour so that no stable-series work runs during a measurement (as the node's quiet period).
start_orthanc() {
  local dir=$1 aet=$2 pdu=$3 i
  mkdir -p "$dir/storage" "$dir/index"
  ORTHANC_PORT=$(free_port)
  ORTHANC_HTTP=$(free_port)
  while [ "$ORTHANC_HTTP" = "$ORTHANC_PORT" ]; do ORTHANC_HTTP=$(free_port); done
  cat >"$dir/orthanc.json" <<JSON
{
  "Name": "ct-triage benchmark",
  "StorageDirectory": "$dir/storage",
  "IndexDirectory": "$dir/index",
  "StorageCompression": false,
  "SyncStorageArea": true,
  "LuaScripts": [], "Plugins": [],
  "HttpServerEnabled": true, "HttpPort": $ORTHANC_HTTP, "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false, "WebDavEnabled": false, "ExecuteLuaEnabled": false,
  "DicomServerEnabled": true, "DicomAet": "$aet", "DicomPort": $ORTHANC_PORT,
  "DicomCheckCalledAet": true, "DicomCheckModalityHost": true,
  "DicomAlwaysAllowEcho": false, "DicomAlwaysAllowStore": false,
  "DicomModalities": { "bench": { "AET": "BENCH", "Host": "127.0.0.1", "Port": 104 } },
  "MaximumPduLength": $pdu,
  "StableAge": 3600, "SaveJobs": false
}
JSON
  spawn "$dir/orthanc" env TCP_NODELAY=1 Orthanc "$dir/orthanc.json"
  ORTHANC_PID=$LAST_PID
  for i in $(seq 300); do
    if curl -sf "http://127.0.0.1:$ORTHANC_HTTP/system" >/dev/null 2>&1; then return 0; fi
    kill -0 "$ORTHANC_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "Orthanc did not start; see $dir/orthanc.err" >&2
  tail -20 "$dir/orthanc.err" >&2
  return 1
}

# How many instances Orthanc holds (its REST API's /statistics).
orthanc_instances() {
  curl -sf "http://127.0.0.1:$ORTHANC_HTTP/statistics" | sed -n 's/.*"CountInstances" *: *\([0-9]*\).*/\1/p'
}

# CPU seconds a process has used so far (user + system, its reaped children included).
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15 + $16 + $17) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# Sends N series at once, each with its own storescu on its own association (as send_series):
# send_series_concurrently AEC PORT LOG_PREFIX SERIES_DIR… Sets SEND_SECONDS: from the first
# start to the last storescu's exit.
send_series_concurrently() {
  local aec=$1 port=$2 log=$3 pids=() dirs=() i failed=0
  shift 3
  dirs=("$@")
  SEND_T0=$(now)
  for i in "${!dirs[@]}"; do
    TCP_NODELAY=1 storescu --aetitle BENCH --call "$aec" --propose-little --required \
      127.0.0.1 "$port" "${dirs[i]}"/dicom/*.dcm >"$log-$i.log" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    if ! wait "${pids[i]}"; then
      echo "storescu $i to $aec failed; see $log-$i.log" >&2
      tail -5 "$log-$i.log" >&2
      failed=1
    fi
  done
  SEND_T1=$(now)
  SEND_SECONDS=$(awk -v a="$SEND_T0" -v b="$SEND_T1" 'BEGIN { printf "%.6f", b - a }')
  return $failed
}
