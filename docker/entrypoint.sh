#!/bin/sh
# Starts one Fluxa process by name. Queue names default to the runbooks' and follow
# the same FLUXA_* variables the code reads.
set -eu

# Metrics of every process in the container are gathered from one directory.
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
  rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
fi

# A worker takes every queue, unless `worker QUEUES` names those of one kind of worker
# (deploy/aws runs event and stats workers apart, each scaled on its own backlog).
queues="${FLUXA_INPUT_QUEUE:-Fluxa-InputQueue},${FLUXA_STATS_QUEUE:-Fluxa-StatsQueue},${FLUXA_MAINTENANCE_QUEUE:-Fluxa-MaintenanceQueue}"

case "${1:-api}" in
  api)
    shift || true
    exec fluxa serve --host 0.0.0.0 --port "${PORT:-8000}" --workers "${WEB_CONCURRENCY:-2}" "$@"
    ;;
  worker)
    shift
    if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then queues=$1; shift; fi
    exec celery -A workers.worker worker --queues "$queues" --concurrency "${WORKER_CONCURRENCY:-2}" \
      --without-heartbeat --without-gossip --without-mingle --loglevel "${FLUXA_LOG_LEVEL}" "$@"
    ;;
  beat)
    shift
    exec celery -A workers.worker beat --schedule /tmp/celerybeat-schedule \
      --loglevel "${FLUXA_LOG_LEVEL}" "$@"
    ;;
  setup)
    exec fluxa setup
    ;;
  *)
    exec "$@"
    ;;
esac
