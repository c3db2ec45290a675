#!/bin/sh
# Runs once when the PostgreSQL container initialises its data directory: lets the CDC
# connector open logical replication connections from the other containers (the image's
# own pg_hba.conf only admits ordinary connections from the network).
set -e
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
