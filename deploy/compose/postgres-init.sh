#!/bin/sh
# One database per service on the compose file's one PostgreSQL (its first start only): prasmes_<name> for each
# name in PRASMES_DATABASES.
set -eu
for name in $PRASMES_DATABASES; do
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -c "CREATE DATABASE prasmes_$name"
done
