-- The DHCPv6 engine's own state in schema tern.
--
-- dhcp6_server_id: the server DUID (option 2 of every reply), one row. Kept in the
-- store, not in a file as Kea keeps it, so that it survives restarts and every tern
-- server on this database answers with the same DUID (any of them can then take a
-- client's RENEW). The first server to start stores the DUID it made up; a
-- `server-id` in the configuration replaces it.

CREATE TABLE IF NOT EXISTS tern.dhcp6_server_id (
    id smallint PRIMARY KEY CHECK (id = 1),
    duid bytea NOT NULL CHECK (length(duid) BETWEEN 3 AND 130),
    created timestamptz NOT NULL DEFAULT now()
);
