# Sourced by scripts/test.sh: makes sure a PostgreSQL server answers on
# 127.0.0.1:5432 for the store tests, and exports its admin URL as
# PARLEY_TEST_POSTGRES. It uses a running server if there is one, starts
# the machine's cluster if it is stopped, or installs Debian's package.
# (The password is ignored where local connections are trusted.)
: "${PARLEY_TEST_POSTGRES:=postgres://postgres:postgres@127.0.0.1:5432/postgres}"
export PARLEY_TEST_POSTGRES

postgres_ready() {
    command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432
}

if ! postgres_ready; then
    if ! command -v pg_ctlcluster >/dev/null; then
        echo "installing PostgreSQL (Debian package)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        installed_here=1
    fi
    cluster_version=$(ls /etc/postgresql | sort -V | tail -n 1)
    pg_ctlcluster --skip-systemctl-redirect "$cluster_version" main start || true
    for _ in $(seq 1 30); do postgres_ready && break; sleep 1; done
    if [ "${installed_here:-0}" = 1 ]; then
        su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\""
    fi
fi
postgres_ready || { echo "PostgreSQL is not answering on 127.0.0.1:5432" >&2; exit 1; }
