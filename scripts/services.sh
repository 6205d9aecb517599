#!/usr/bin/env bash
# Make sure the servers the tests talk to are up: PostgreSQL on 127.0.0.1:5432 (trust auth
# for local test databases).  Starts it when it is installed but stopped; installs Debian's
# postgresql when it is missing.  Safe to run again.
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

pg_up() { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; }

if ! pg_up; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
    conf=$(ls /etc/postgresql/*/main/pg_hba.conf | head -1)
    # test machines only: local connections without a password
    $SUDO sed -i -E 's/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/' "$conf"
  fi
  $SUDO service postgresql start >/dev/null || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
pg_up || { echo "services: PostgreSQL is not answering on 127.0.0.1:5432" >&2; exit 1; }

# MariaDB on 127.0.0.1:3306 (root, empty password): a county's legacy database for the sql
# adapter's tests.  Started when installed but stopped; installed when missing.
maria_up() { command -v mariadb-admin >/dev/null 2>&1 && mariadb-admin -h 127.0.0.1 -P 3306 -uroot ping >/dev/null 2>&1; }
if ! maria_up; then
  if [ ! -x /usr/sbin/mariadbd ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mariadb-server >/dev/null
  fi
  $SUDO start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  for _ in $(seq 1 30); do maria_up && break; sleep 1; done
fi
maria_up || { echo "services: MariaDB is not answering on 127.0.0.1:3306" >&2; exit 1; }
