#!/bin/sh
# The part of the official postgres image's entrypoint the compose stack relies on, for the
# image Wake builds from the host's PostgreSQL where no registry is reachable
# (libs/dev-servers/src/base-images.ts): as root, it hands PGDATA to the postgres user and
# re-runs itself as that user; on an empty PGDATA it runs initdb (password from
# POSTGRES_PASSWORD, host auth POSTGRES_HOST_AUTH_METHOD, default scram-sha-256), listens on
# every address and creates POSTGRES_DB; then it execs the command (postgres).
set -eu

if [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA"
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec su postgres -s /bin/sh -c 'exec "$0" "$@"' "$0" "$@"
fi

if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
    echo 'docker-entrypoint.sh: set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust)' >&2
    exit 1
  fi
  pwfile="$(mktemp)"
  printf '%s\n' "${POSTGRES_PASSWORD:-postgres}" >"$pwfile"
  initdb -D "$PGDATA" -U "${POSTGRES_USER:-postgres}" -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host="$auth" --pwfile="$pwfile"
  rm -f "$pwfile"
  echo "host all all all $auth" >>"$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  if [ -n "${POSTGRES_DB:-}" ] && [ "$POSTGRES_DB" != postgres ]; then
    echo "CREATE DATABASE \"$POSTGRES_DB\";" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
fi

exec "$@"
