-- Kea's host reservation tables: hosts, ipv6_reservations, dhcp4_options and
-- dhcp6_options, in the shape of Kea schema 34.0.
--
-- Kea's options tables also hold configuration-backend options; on a fresh
-- database the foreign keys to the configuration-backend tables (subnets, pools,
-- shared networks) and Kea's audit triggers are left out, because tern does not
-- create those tables. A database Kea created keeps them.

CREATE TABLE IF NOT EXISTS public.hosts (
    host_id serial PRIMARY KEY,
    dhcp_identifier bytea NOT NULL,
    dhcp_identifier_type smallint NOT NULL,  -- host_identifier_type: 0 hw-address, 1 duid, ...
    dhcp4_subnet_id bigint,                  -- 0 = global reservation
    dhcp6_subnet_id bigint,
    ipv4_address bigint,                     -- IPv4 address as an unsigned 32-bit number
    hostname varchar(255) DEFAULT NULL,
    dhcp4_client_classes varchar(255) DEFAULT NULL,
    dhcp6_client_classes varchar(255) DEFAULT NULL,
    dhcp4_next_server bigint,
    dhcp4_server_hostname varchar(64) DEFAULT NULL,
    dhcp4_boot_file_name varchar(128) DEFAULT NULL,
    user_context text,
    auth_key varchar(32) DEFAULT NULL,
    CONSTRAINT fk_host_identifier_type FOREIGN KEY (dhcp_identifier_type)
        REFERENCES public.host_identifier_type (type) ON DELETE CASCADE
);

CREATE INDEX IF NOT EXISTS fk_host_identifier_type ON public.hosts (dhcp_identifier_type);
CREATE INDEX IF NOT EXISTS hosts_by_hostname ON public.hosts (lower(hostname))
    WHERE hostname IS NOT NULL;
CREATE INDEX IF NOT EXISTS key_dhcp_identifier ON public.hosts (dhcp_identifier, dhcp_identifier_type);
CREATE INDEX IF NOT EXISTS key_dhcp4_ipv4_address_subnet_id ON public.hosts (ipv4_address, dhcp4_subnet_id);
-- One reservation per identifier and subnet, for each family.
CREATE UNIQUE INDEX IF NOT EXISTS key_dhcp4_identifier_subnet_id
    ON public.hosts (dhcp_identifier, dhcp_identifier_type, dhcp4_subnet_id)
    WHERE dhcp4_subnet_id IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS key_dhcp6_identifier_subnet_id
    ON public.hosts (dhcp_identifier, dhcp_identifier_type, dhcp6_subnet_id)
    WHERE dhcp6_subnet_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS public.ipv6_reservations (
    reservation_id serial PRIMARY KEY,
    address inet NOT NULL,
    prefix_len smallint NOT NULL DEFAULT 128,
    type smallint NOT NULL DEFAULT 0,        -- 0 address, 2 prefix
    dhcp6_iaid integer,
    host_id integer NOT NULL,
    excluded_prefix inet,                    -- RFC 6603 prefix exclude
    excluded_prefix_len smallint NOT NULL DEFAULT 0,
    CONSTRAINT fk_ipv6_reservations_host FOREIGN KEY (host_id)
        REFERENCES public.hosts (host_id) ON DELETE CASCADE
);

-- Kea schema 25.
ALTER TABLE public.ipv6_reservations
    ADD COLUMN IF NOT EXISTS excluded_prefix inet,
    ADD COLUMN IF NOT EXISTS excluded_prefix_len smallint NOT NULL DEFAULT 0;

-- Kea before schema 18 kept the address as varchar(39).
DO $$
BEGIN
    IF (SELECT data_type FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name = 'ipv6_reservations'
           AND column_name = 'address') <> 'inet' THEN
        ALTER TABLE public.ipv6_reservations ALTER COLUMN address TYPE inet USING address::inet;
    END IF;
END
$$;

CREATE INDEX IF NOT EXISTS fk_ipv6_reservations_host_idx ON public.ipv6_reservations (host_id);
CREATE INDEX IF NOT EXISTS key_dhcp6_address_prefix_len ON public.ipv6_reservations (address, prefix_len);

-- client_classes: Kea 3.x declares it NOT NULL without a default, so an INSERT
-- written for Kea 2.x (which has no such column) would fail. tern gives it Kea's
-- own "no classes" value as default instead.
CREATE TABLE IF NOT EXISTS public.dhcp4_options (
    option_id serial PRIMARY KEY,
    code smallint NOT NULL,
    value bytea,
    formatted_value text,
    space varchar(128) DEFAULT NULL,
    persistent boolean NOT NULL DEFAULT false,
    dhcp_client_class varchar(128) DEFAULT NULL,
    dhcp4_subnet_id bigint,
    host_id integer,
    scope_id smallint NOT NULL,              -- dhcp_option_scope: 3 = host
    user_context text,
    shared_network_name varchar(128) DEFAULT NULL,
    pool_id bigint,
    modification_ts timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    cancelled boolean NOT NULL DEFAULT false,
    client_classes text NOT NULL DEFAULT '[  ]',
    CONSTRAINT fk_options_host1 FOREIGN KEY (host_id)
        REFERENCES public.hosts (host_id) ON DELETE CASCADE,
    CONSTRAINT fk_dhcp4_option_scode FOREIGN KEY (scope_id)
        REFERENCES public.dhcp_option_scope (scope_id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS public.dhcp6_options (
    option_id serial PRIMARY KEY,
    code integer NOT NULL,
    value bytea,
    formatted_value text,
    space varchar(128) DEFAULT NULL,
    persistent boolean NOT NULL DEFAULT false,
    dhcp_client_class varchar(128) DEFAULT NULL,
    dhcp6_subnet_id bigint,
    host_id integer,
    scope_id smallint NOT NULL,
    user_context text,
    shared_network_name varchar(128) DEFAULT NULL,
    pool_id bigint,
    pd_pool_id bigint,
    modification_ts timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    cancelled boolean NOT NULL DEFAULT false,
    client_classes text NOT NULL DEFAULT '[  ]',
    CONSTRAINT fk_options_host10 FOREIGN KEY (host_id)
        REFERENCES public.hosts (host_id) ON DELETE CASCADE,
    CONSTRAINT fk_dhcp6_option_scode FOREIGN KEY (scope_id)
        REFERENCES public.dhcp_option_scope (scope_id) ON DELETE CASCADE
);

-- Kea schema 14 (cancelled), 26 and 30 (client_classes). Adding columns fires no
-- row triggers, so Kea's audit triggers on these tables stay quiet.
ALTER TABLE public.dhcp4_options
    ADD COLUMN IF NOT EXISTS modification_ts timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    ADD COLUMN IF NOT EXISTS cancelled boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS client_classes text NOT NULL DEFAULT '[  ]';
ALTER TABLE public.dhcp6_options
    ADD COLUMN IF NOT EXISTS modification_ts timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    ADD COLUMN IF NOT EXISTS cancelled boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS client_classes text NOT NULL DEFAULT '[  ]';

-- A database at Kea schema 26..29 has the column but nullable and without default.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM public.dhcp4_options WHERE client_classes IS NULL) THEN
        UPDATE public.dhcp4_options SET client_classes = '[  ]' WHERE client_classes IS NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM public.dhcp6_options WHERE client_classes IS NULL) THEN
        UPDATE public.dhcp6_options SET client_classes = '[  ]' WHERE client_classes IS NULL;
    END IF;
END
$$;
ALTER TABLE public.dhcp4_options
    ALTER COLUMN client_classes SET DEFAULT '[  ]',
    ALTER COLUMN client_classes SET NOT NULL;
ALTER TABLE public.dhcp6_options
    ALTER COLUMN client_classes SET DEFAULT '[  ]',
    ALTER COLUMN client_classes SET NOT NULL;

CREATE INDEX IF NOT EXISTS fk_dhcp4_options_host1_idx ON public.dhcp4_options (host_id);
CREATE INDEX IF NOT EXISTS fk_dhcp4_options_scope_idx ON public.dhcp4_options (scope_id);
CREATE INDEX IF NOT EXISTS fk_dhcp4_options_subnet ON public.dhcp4_options (dhcp4_subnet_id);
CREATE INDEX IF NOT EXISTS fk_dhcp4_options_pool ON public.dhcp4_options (pool_id);
CREATE INDEX IF NOT EXISTS fk_dhcp4_options_shared_network ON public.dhcp4_options (shared_network_name);

CREATE INDEX IF NOT EXISTS fk_dhcp6_options_host1_idx ON public.dhcp6_options (host_id);
CREATE INDEX IF NOT EXISTS fk_dhcp6_options_scope_idx ON public.dhcp6_options (scope_id);
CREATE INDEX IF NOT EXISTS fk_dhcp6_options_subnet ON public.dhcp6_options (dhcp6_subnet_id);
CREATE INDEX IF NOT EXISTS fk_dhcp6_options_pool ON public.dhcp6_options (pool_id);
CREATE INDEX IF NOT EXISTS fk_dhcp6_options_pd_pool ON public.dhcp6_options (pd_pool_id);
CREATE INDEX IF NOT EXISTS fk_dhcp6_options_shared_network ON public.dhcp6_options (shared_network_name);
