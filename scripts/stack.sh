#!/usr/bin/env bash
# `make stack`: a local deployment on this machine, run by honcho from a Procfile written to
# .stack/: two daphne servers, two RQ workers, the scheduler, Pushpin in front when it is
# installed, on the machine's PostgreSQL and Redis. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
WEB_PORTS=${STACK_WEB_PORTS:-8001 8002}
WORKERS=${STACK_WORKERS:-2}
PUSHPIN_PORT=${STACK_PUSHPIN_PORT:-7999}
METRICS_BASE=${STACK_METRICS_BASE:-9100}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/studios_stack}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/5}
export TASKS_BACKEND=rq DEMO=1 FETCH_ALLOW_PRIVATE=${FETCH_ALLOW_PRIVATE:-1} PYTHONUNBUFFERED=1
# The scheduler runs as a process of its own below, not inside each server.
export SCHEDULER_IN_PROCESS=0

# The services this shape runs on: the machine's, or a clear word on how to start them.
if ! "$BIN/python" - <<'PY'
import os, sys
import psycopg, redis
url = os.environ["DATABASE_URL"]
base, _, name = url.rpartition("/")
try:
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=3) as db:
        if not db.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            db.execute(f'CREATE DATABASE "{name}"')
            print(f"stack: created database {name}")
except psycopg.OperationalError as exc:
    sys.exit(f"stack: PostgreSQL is not reachable at {url} ({exc}).\n"
             "  Start it (e.g. `service postgresql start`, or `docker run -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres`)\n"
             "  or point DATABASE_URL at yours.")
try:
    redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=3).ping()
except redis.RedisError as exc:
    sys.exit(f"stack: Redis is not reachable at {os.environ['REDIS_URL']} ({exc}).\n"
             "  Start it (e.g. `service redis-server start`, or `redis-server --daemonize yes`) or point REDIS_URL at yours.")
PY
then
  exit 1
fi

first_port=${WEB_PORTS%% *}
"$BIN/python" manage.py migrate --noinput >/dev/null
"$BIN/python" manage.py check >/dev/null
"$BIN/python" manage.py demo --base-url "http://$HOST:$first_port" --admin

# Rewritten on each start, under a directory of this checkout, so nothing is left behind in /tmp
# when honcho (which replaces this shell, to receive Ctrl-C itself) stops.
mkdir -p .stack
procfile=.stack/Procfile
: >"$procfile"
n=0
routes=""
for port in $WEB_PORTS; do
  n=$((n + 1))
  echo "web$n: $BIN/daphne -b $HOST -p $port config.asgi:application" >>"$procfile"
  routes="${routes:+$routes,}$HOST:$port"
done
for n in $(seq 1 "$WORKERS"); do
  echo "worker$n: WORKER_METRICS_PORT=$((METRICS_BASE + n)) $BIN/python manage.py rqworker default" >>"$procfile"
done
echo "scheduler: $BIN/python manage.py run_scheduler" >>"$procfile"
front="http://$HOST:$first_port"
publishing="no Pushpin: each server holds its own streams"
if command -v pushpin >/dev/null 2>&1; then
  # Pushpin with its own configuration, runtime files and zurl (the Debian package's points at a
  # system zurl that is not started), routing to both servers. Servers and workers publish each
  # event to it (GRIP_URL, signed with its sig_key), so the streams it holds get them.
  publish_port=$((PUSHPIN_PORT - 37))
  sig_key=$("$BIN/python" -c 'import secrets; print(secrets.token_hex(16))')
  export GRIP_URL="http://127.0.0.1:$publish_port?key=$sig_key"
  rundir="$PWD/.stack/pushpin"
  mkdir -p "$rundir"
  echo "* $routes" >"$rundir/routes"
  cat >"$rundir/pushpin.conf" <<CONF
[global]
include={libdir}/internal.conf
rundir=$rundir
ipc_prefix=stack-
port_offset=0

[runner]
services=condure,zurl,pushpin-proxy,pushpin-handler
http_port=$HOST:$PUSHPIN_PORT
logdir=$rundir
log_level=2

[proxy]
routesfile=$rundir/routes
zurl_out_specs=ipc://{rundir}/{ipc_prefix}zurl-in
zurl_out_stream_specs=ipc://{rundir}/{ipc_prefix}zurl-in-stream
zurl_in_specs=ipc://{rundir}/{ipc_prefix}zurl-out
sig_iss=pushpin
sig_key=$sig_key

[handler]
push_in_spec=tcp://127.0.0.1:$((PUSHPIN_PORT - 39))
push_in_sub_specs=tcp://127.0.0.1:$((PUSHPIN_PORT - 38))
push_in_http_addr=127.0.0.1
push_in_http_port=$publish_port
command_spec=tcp://127.0.0.1:$((PUSHPIN_PORT - 36))
stats_spec=ipc://{rundir}/{ipc_prefix}stats
message_rate=0
message_hwm=0
CONF
  echo "pushpin: pushpin --config $rundir/pushpin.conf --merge-output" >>"$procfile"
  front="http://$HOST:$PUSHPIN_PORT"
  publishing="Pushpin publish http://127.0.0.1:$publish_port (GRIP_URL of the servers and workers)"
fi

cat <<TXT

stack: $(grep -c . "$procfile") processes (TASKS_BACKEND=rq, DATABASE_URL=$DATABASE_URL, REDIS_URL=$REDIS_URL)
$(sed 's/^/  /' "$procfile")

  front door   $front/                  (admin: $front/admin/, API: $front/api/docs/)
$(for port in $WEB_PORTS; do echo "  server       http://$HOST:$port/   /healthz /readyz /metrics"; done)
$(for n in $(seq 1 "$WORKERS"); do echo "  worker$n      http://127.0.0.1:$((METRICS_BASE + n))/metrics"; done)
  $publishing

  Ctrl-C stops everything.
TXT
exec "$BIN/honcho" -f "$procfile" start
