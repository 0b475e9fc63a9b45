-- Kea's schema_version and the small lookup tables Kea's tooling joins with.
--
-- Idempotent: on a database that Kea's kea-admin initialised these tables exist
-- already; only rows that later Kea versions added (lease states 3 and 4) are filled in.

DO $$
BEGIN
    -- No schema_version means Kea never initialised this database. Record the Kea
    -- schema whose core tables tern reproduces: 34.0 (Kea 3.2). A database Kea
    -- created keeps its own row untouched (see the crate docs).
    IF to_regclass('public.schema_version') IS NULL THEN
        CREATE TABLE public.schema_version (
            version integer PRIMARY KEY,
            minor integer
        );
        INSERT INTO public.schema_version (version, minor) VALUES (34, 0);
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS public.lease_state (
    state bigint PRIMARY KEY,
    name varchar(64) NOT NULL
);
INSERT INTO public.lease_state (state, name) VALUES
    (0, 'default'),
    (1, 'declined'),
    (2, 'expired-reclaimed'),
    (3, 'released'),
    (4, 'registered')
ON CONFLICT (state) DO NOTHING;

-- Kea 3.2 no longer has IA_TA (1); a database that has the row keeps it, so old
-- IA_TA leases stay valid rows.
CREATE TABLE IF NOT EXISTS public.lease6_types (
    lease_type smallint PRIMARY KEY,
    name varchar(5)
);
INSERT INTO public.lease6_types (lease_type, name) VALUES
    (0, 'IA_NA'),
    (2, 'IA_PD')
ON CONFLICT (lease_type) DO NOTHING;

CREATE TABLE IF NOT EXISTS public.lease_hwaddr_source (
    hwaddr_source integer PRIMARY KEY,
    name varchar(40) DEFAULT NULL
);
INSERT INTO public.lease_hwaddr_source (hwaddr_source, name) VALUES
    (0, 'HWADDR_SOURCE_UNKNOWN'),
    (1, 'HWADDR_SOURCE_RAW'),
    (2, 'HWADDR_SOURCE_IPV6_LINK_LOCAL'),
    (4, 'HWADDR_SOURCE_DUID'),
    (8, 'HWADDR_SOURCE_CLIENT_ADDR_RELAY_OPTION'),
    (16, 'HWADDR_SOURCE_REMOTE_ID'),
    (32, 'HWADDR_SOURCE_SUBSCRIBER_ID'),
    (64, 'HWADDR_SOURCE_DOCSIS_CMTS'),
    (128, 'HWADDR_SOURCE_DOCSIS_MODEM')
ON CONFLICT (hwaddr_source) DO NOTHING;

CREATE TABLE IF NOT EXISTS public.host_identifier_type (
    type smallint PRIMARY KEY,
    name varchar(32) DEFAULT NULL
);
INSERT INTO public.host_identifier_type (type, name) VALUES
    (0, 'hw-address'),
    (1, 'duid'),
    (2, 'circuit-id'),
    (3, 'client-id'),
    (4, 'flex-id')
ON CONFLICT (type) DO NOTHING;

CREATE TABLE IF NOT EXISTS public.dhcp_option_scope (
    scope_id smallint PRIMARY KEY,
    scope_name varchar(32) DEFAULT NULL
);
INSERT INTO public.dhcp_option_scope (scope_id, scope_name) VALUES
    (0, 'global'),
    (1, 'subnet'),
    (2, 'client-class'),
    (3, 'host'),
    (4, 'shared-network'),
    (5, 'pool'),
    (6, 'pd-pool')
ON CONFLICT (scope_id) DO NOTHING;
