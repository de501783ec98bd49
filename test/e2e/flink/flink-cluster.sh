#!/usr/bin/env bash
# A real Flink session cluster (standalone JobManager + TaskManager JVMs) from Maven Central
# jars, without flink-dist or Docker. Java 17 and Maven needed.
#
#   flink-cluster.sh start [--version V] [--port P] [--dir D]   prints FLINK_URL=, FLINK_DIR=, FLINK_VERSION=, FLINK_EXAMPLES=
#   flink-cluster.sh stop --dir D                               stops exactly the processes `start` recorded in D
#   flink-cluster.sh restart-jobmanager --dir D [--wipe-jars]   kills the JobManager (SIGKILL) and starts a new one
#   flink-cluster.sh kill-taskmanager --dir D                   kills the TaskManager (SIGKILL): its tasks fail
#   flink-cluster.sh start-taskmanager --dir D                  starts a TaskManager and waits for its slots
#   flink-cluster.sh fetch [--version V]                        only resolves and caches the jars
#
# Flink's configuration is the repository's flink/config.yaml (the compose stack's too), its
# /flink-data directories moved into D. The default version comes from the repository's .env
# (FLINK_VERSION). Jars are cached in $FLINK_CACHE_DIR (default ~/.cache/flink-orchestrator),
# so a second start is fast.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
CACHE="${FLINK_CACHE_DIR:-$HOME/.cache/flink-orchestrator}"

log() { printf '[flink-cluster] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
STARTED_DIR=""
# A start that fails leaves nothing running.
cleanup_failed_start() {
  if [[ -n "$STARTED_DIR" ]]; then
    for p in taskmanager jobmanager; do
      [[ -f "$STARTED_DIR/$p.pid" ]] && kill -KILL "$(cat "$STARTED_DIR/$p.pid")" 2>/dev/null || true
    done
  fi
}

default_version() {
  # shellcheck disable=SC1091
  (set -a; . "$ROOT/.env"; echo "${FLINK_VERSION:?FLINK_VERSION missing in .env}")
}

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# Resolves the cluster's classpath and the example jobs into $CACHE/flink-$V.
fetch() {
  local version="$1" home="$CACHE/flink-$1"
  if [[ -f "$home/.complete" ]]; then echo "$home"; return; fi
  log "resolving Flink $version from Maven Central into $home (first run only)"
  rm -rf "$home" && mkdir -p "$home/lib" "$home/examples"
  mvn -q -B -f "$HERE/pom.xml" -Dflink.version="$version" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$home/lib" >&2
  # Maven Central does not carry flink-examples-streaming for every patch release
  # (e.g. none for 1.20.1-1.20.3): fall back to the line's .0 release, same DataStream API.
  local examples
  for examples in "$version" "${version%.*}.0"; do
    if mvn -q -B dependency:copy -Dartifact="org.apache.flink:flink-examples-streaming:$examples:jar:WordCount" \
      -DoutputDirectory="$home/examples" >/dev/null 2>&1; then
      mvn -q -B dependency:copy -Dartifact="org.apache.flink:flink-examples-streaming:$examples:jar:TopSpeedWindowing" \
        -DoutputDirectory="$home/examples" >&2
      break
    fi
  done
  ( cd "$home/examples" && for f in *.jar; do
      case "$f" in *-WordCount.jar) mv "$f" WordCount.jar ;; *-TopSpeedWindowing.jar) mv "$f" TopSpeedWindowing.jar ;; esac
    done )
  [[ -f "$home/examples/WordCount.jar" && -f "$home/examples/TopSpeedWindowing.jar" ]] || die "example jars not found for $version"
  echo "$examples" > "$home/examples/VERSION"
  touch "$home/.complete"
  echo "$home"
}

JAVA_OPTS=(
  -XX:+IgnoreUnrecognizedVMOptions
  --add-exports=java.base/sun.net.util=ALL-UNNAMED
  --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED
  --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.text=ALL-UNNAMED
  --add-opens=java.base/java.time=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED
)

# The repository's Flink configuration (flink/config.yaml, which the compose stack runs with
# too), its /flink-data directories moved into $dir, then what is this cluster's own: ports,
# addresses, bind hosts, temporary directories.
CONFIG="$ROOT/flink/config.yaml"
write_config() {
  local dir="$1" port="$2" rpc="$3" settings local_keys key
  mkdir -p "$dir/conf" "$dir/savepoints" "$dir/checkpoints" "$dir/jars" "$dir/tmp" "$dir/log"
  [[ -f "$CONFIG" ]] || die "$CONFIG is missing"
  settings="$(cat "$CONFIG")"
  local_keys="jobmanager.rpc.address: localhost
jobmanager.rpc.port: $rpc
jobmanager.bind-host: 127.0.0.1
taskmanager.host: localhost
taskmanager.bind-host: 127.0.0.1
rest.address: 127.0.0.1
rest.bind-address: 127.0.0.1
rest.port: $port
web.tmpdir: $dir/tmp
io.tmp.dirs: $dir/tmp"
  # A key in both would be read twice: refused, so the repository's file stays the one place.
  while IFS= read -r key; do
    key="${key%%:*}"
    if grep -qE "^[[:space:]]*${key//./\\.}[[:space:]]*:" "$CONFIG"; then
      die "$CONFIG sets $key, which flink-cluster.sh sets for each cluster"
    fi
  done <<< "$local_keys"
  printf '%s\n\n# This cluster'"'"'s own (flink-cluster.sh)\n%s\n' "${settings//\/flink-data/"$dir"}" "$local_keys" \
    > "$dir/conf/config.yaml"
  cat > "$dir/conf/log4j2.properties" <<'PROPS'
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = File
appender.file.name = File
appender.file.type = FILE
appender.file.fileName = ${sys:log.file}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d{HH:mm:ss,SSS} %-5p %-40c{1.} - %m%n
logger.netty.name = org.apache.flink.shaded.netty4
logger.netty.level = WARN
PROPS
}

# Flink's own BashJavaUtils sizes a process from the configuration, as jobmanager.sh and
# taskmanager.sh do: two lines, the JVM flags and the memory options as dynamic properties.
resource_params() {
  local dir="$1" which="$2" home params; home="$(cat "$dir/home")"
  params="$(java -cp "$home/lib/*" org.apache.flink.runtime.util.bash.BashJavaUtils "$which" \
    --configDir "$dir/conf" 2>/dev/null | grep '^BASH_JAVA_UTILS_EXEC_RESULT:' | sed 's/^BASH_JAVA_UTILS_EXEC_RESULT://')"
  [[ "$(echo "$params" | wc -l)" -eq 2 ]] || die "BashJavaUtils $which gave no memory parameters"
  echo "$params"
}

start_jobmanager() {
  local dir="$1" home params jvm dynamic; home="$(cat "$dir/home")"
  params="$(resource_params "$dir" GET_JM_RESOURCE_PARAMS)"
  jvm="$(echo "$params" | head -n1)"
  dynamic="$(echo "$params" | tail -n1)"
  # shellcheck disable=SC2086 # both are lists of flags
  java "${JAVA_OPTS[@]}" $jvm -Dlog.file="$dir/log/jobmanager.log" \
    -Dlog4j.configurationFile="file:$dir/conf/log4j2.properties" -cp "$home/lib/*" \
    org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint --configDir "$dir/conf" $dynamic \
    > "$dir/log/jobmanager.out" 2>&1 &
  echo $! > "$dir/jobmanager.pid"
}

start_taskmanager() {
  local dir="$1" home params jvm dynamic; home="$(cat "$dir/home")"
  # The TaskManager does not size its own memory: from taskmanager.memory.process.size.
  params="$(resource_params "$dir" GET_TM_RESOURCE_PARAMS)"
  jvm="$(echo "$params" | head -n1)"
  dynamic="$(echo "$params" | tail -n1)"
  # shellcheck disable=SC2086 # both are lists of flags
  java "${JAVA_OPTS[@]}" -XX:+UseG1GC $jvm \
    -Dlog.file="$dir/log/taskmanager.log" -Dlog4j.configurationFile="file:$dir/conf/log4j2.properties" -cp "$home/lib/*" \
    org.apache.flink.runtime.taskexecutor.TaskManagerRunner --configDir "$dir/conf" $dynamic \
    > "$dir/log/taskmanager.out" 2>&1 &
  echo $! > "$dir/taskmanager.pid"
}

# Waits until the REST API answers and a TaskManager offers free slots:
# 0 ready, 1 not in time, 2 a process exited.
wait_ready() {
  local dir="$1" port; port="$(cat "$dir/port")"
  local deadline=$((SECONDS + ${FLINK_START_TIMEOUT:-180}))
  while ((SECONDS < deadline)); do
    local overview
    overview="$(curl -sf "http://127.0.0.1:$port/overview" 2>/dev/null || true)"
    if [[ "$overview" =~ \"taskmanagers\":([1-9]) && "$overview" =~ \"slots-available\":([1-9]) ]]; then return 0; fi
    for p in jobmanager taskmanager; do
      if ! kill -0 "$(cat "$dir/$p.pid")" 2>/dev/null; then
        tail -n 40 "$dir/log/$p.out" "$dir/log/$p.log" >&2 2>/dev/null || true
        log "the $p exited"
        return 2
      fi
    done
    sleep 1
  done
  tail -n 40 "$dir/log/jobmanager.log" "$dir/log/taskmanager.log" >&2 2>/dev/null || true
  log "Flink not ready on port $port in time"
  return 1
}

# The ports are picked free, then bound by the JVMs seconds later: another process may take
# one meanwhile. Flink then fails to bind (a BindException in its log).
bind_failed() {
  grep -qsE 'BindException|Address already in use' "$1/log/jobmanager.log" "$1/log/jobmanager.out" \
    "$1/log/taskmanager.log" "$1/log/taskmanager.out"
}

stop_pid() {
  local file="$1" pid
  [[ -f "$file" ]] || return 0
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

cmd="${1:-}"; shift || true
version="" port="" dir="" wipe=false
while (($#)); do
  case "$1" in
    --version) version="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --wipe-jars) wipe=true; shift ;;
    *) die "unknown argument $1" ;;
  esac
done

case "$cmd" in
  fetch)
    fetch "${version:-$(default_version)}" > /dev/null
    ;;
  start)
    version="${version:-$(default_version)}"
    home="$(fetch "$version")"
    dir="${dir:-$(mktemp -d /tmp/flink-cluster-XXXXXX)}"
    mkdir -p "$dir"
    echo "$home" > "$dir/home"
    STARTED_DIR="$dir"
    trap cleanup_failed_start EXIT
    requested_port="$port"
    for attempt in 1 2 3; do
      port="${requested_port:-$(free_port)}"
      write_config "$dir" "$port" "$(free_port)"
      echo "$port" > "$dir/port"
      log "starting Flink $version on 127.0.0.1:$port (logs in $dir/log)"
      start_jobmanager "$dir"
      start_taskmanager "$dir"
      status=0
      wait_ready "$dir" || status=$?
      ((status == 0)) && break
      cleanup_failed_start
      if [[ -z "$requested_port" ]] && ((status == 2 && attempt < 3)) && bind_failed "$dir"; then
        log "a picked port was taken before Flink bound it; trying other ports"
        rm -f "$dir"/log/*
        continue
      fi
      die "Flink $version did not start"
    done
    trap - EXIT
    echo "FLINK_URL=http://127.0.0.1:$port"
    echo "FLINK_DIR=$dir"
    echo "FLINK_VERSION=$version"
    echo "FLINK_EXAMPLES=$home/examples"
    ;;
  stop)
    [[ -n "$dir" ]] || die "stop needs --dir"
    stop_pid "$dir/taskmanager.pid"
    stop_pid "$dir/jobmanager.pid"
    log "stopped the cluster in $dir"
    ;;
  kill-taskmanager)
    [[ -n "$dir" ]] || die "kill-taskmanager needs --dir"
    kill -KILL "$(cat "$dir/taskmanager.pid")" 2>/dev/null || true
    while kill -0 "$(cat "$dir/taskmanager.pid")" 2>/dev/null; do sleep 0.2; done
    log "TaskManager killed"
    ;;
  start-taskmanager)
    [[ -n "$dir" ]] || die "start-taskmanager needs --dir"
    start_taskmanager "$dir"
    wait_ready "$dir" || die "the TaskManager did not come up"
    log "TaskManager started"
    ;;
  restart-jobmanager)
    [[ -n "$dir" ]] || die "restart-jobmanager needs --dir"
    kill -KILL "$(cat "$dir/jobmanager.pid")" 2>/dev/null || true
    while kill -0 "$(cat "$dir/jobmanager.pid")" 2>/dev/null; do sleep 0.2; done
    if $wipe; then rm -rf "${dir:?}/jars/"*; fi
    start_jobmanager "$dir"
    wait_ready "$dir" || die "the JobManager did not come back"
    log "JobManager restarted"
    ;;
  *)
    sed -n '2,15p' "$0" >&2
    exit 2
    ;;
esac
