#!/usr/bin/env bash
# Debian's PostgreSQL for the registry's tests: 127.0.0.1:5432, users postgres and
# thbmonitor_service with trust auth on loopback. Does nothing when a server answers there;
# otherwise installs the postgresql package (as root), creates and starts its cluster.
set -euo pipefail
if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "PostgreSQL is not running at 127.0.0.1:5432 and this user cannot install it;"
  echo "the registry's tests will skip (and fail in CI)"
  exit 0
fi
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
pg_lsclusters -h | grep -q "^${version} main" || pg_createcluster "$version" main >/dev/null
hba=/etc/postgresql/${version}/main/pg_hba.conf
if ! grep -q "thbmonitor tests" "$hba"; then
  # first matching line wins: trust these two users on loopback only
  sed -i '1i host all postgres 127.0.0.1/32 trust  # thbmonitor tests\
host all thbmonitor_service 127.0.0.1/32 trust  # thbmonitor tests' "$hba"
fi
pg_ctlcluster "$version" main start 2>/dev/null || pg_ctlcluster "$version" main reload
for _ in $(seq 30); do
  pg_isready -q -h 127.0.0.1 -p 5432 && exit 0
  sleep 1
done
echo "PostgreSQL did not start at 127.0.0.1:5432" >&2
exit 1
