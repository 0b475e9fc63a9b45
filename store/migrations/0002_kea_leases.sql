-- Kea's lease tables, lease4 and lease6, in the shape of Kea schema 34.0.
--
-- A fresh database gets the tables only: Kea's lease statistics tables and the
-- triggers that maintain them are left out (tern keeps its own statistics). A
-- database Kea created keeps its triggers and functions; the ALTERs below bring
-- its tables forward in place (Kea 2.2 is schema 13.0) without rewriting rows.

CREATE TABLE IF NOT EXISTS public.lease4 (
    address bigint PRIMARY KEY,          -- IPv4 address as an unsigned 32-bit number
    hwaddr bytea,
    client_id bytea,
    valid_lifetime bigint,
    expire timestamptz,                  -- client's last transmission + valid_lifetime
    subnet_id bigint,
    fqdn_fwd boolean,
    fqdn_rev boolean,
    hostname varchar(255),
    state bigint DEFAULT 0,
    user_context text,
    relay_id bytea,                      -- copies of what user_context holds, for indexes
    remote_id bytea,
    pool_id bigint NOT NULL DEFAULT 0,
    CONSTRAINT fk_lease4_state FOREIGN KEY (state) REFERENCES public.lease_state (state)
);

-- Kea schema 15 and 17. A constant default needs no table rewrite.
ALTER TABLE public.lease4
    ADD COLUMN IF NOT EXISTS relay_id bytea,
    ADD COLUMN IF NOT EXISTS remote_id bytea,
    ADD COLUMN IF NOT EXISTS pool_id bigint NOT NULL DEFAULT 0;

CREATE INDEX IF NOT EXISTS lease4_by_client_id_subnet_id ON public.lease4 (client_id, subnet_id);
CREATE INDEX IF NOT EXISTS lease4_by_hwaddr_subnet_id ON public.lease4 (hwaddr, subnet_id);
CREATE INDEX IF NOT EXISTS lease4_by_hostname ON public.lease4 (lower(hostname))
    WHERE hostname IS NOT NULL;
CREATE INDEX IF NOT EXISTS lease4_by_state_expire ON public.lease4 (state, expire);
CREATE INDEX IF NOT EXISTS lease4_by_state ON public.lease4 (state, subnet_id);
CREATE INDEX IF NOT EXISTS lease4_by_subnet_id ON public.lease4 (subnet_id);
CREATE INDEX IF NOT EXISTS lease4_by_relay_id ON public.lease4 (relay_id);
CREATE INDEX IF NOT EXISTS lease4_by_remote_id ON public.lease4 (remote_id);

CREATE TABLE IF NOT EXISTS public.lease6 (
    address inet PRIMARY KEY,            -- for a delegated prefix: the prefix, see prefix_len
    duid bytea,
    valid_lifetime bigint,
    expire timestamptz,
    subnet_id bigint,
    pref_lifetime bigint,
    lease_type smallint,                 -- lease6_types: 0 IA_NA, 2 IA_PD
    iaid integer,
    prefix_len smallint,
    fqdn_fwd boolean,
    fqdn_rev boolean,
    hostname varchar(255),
    state bigint DEFAULT 0,
    hwaddr bytea,
    hwtype smallint,
    hwaddr_source smallint,
    user_context text,
    pool_id bigint NOT NULL DEFAULT 0,
    CONSTRAINT fk_lease6_state FOREIGN KEY (state) REFERENCES public.lease_state (state),
    CONSTRAINT fk_lease6_type FOREIGN KEY (lease_type) REFERENCES public.lease6_types (lease_type)
);

ALTER TABLE public.lease6
    ADD COLUMN IF NOT EXISTS pool_id bigint NOT NULL DEFAULT 0;

-- Kea before schema 18 kept lease6.address as varchar(39).
DO $$
BEGIN
    IF (SELECT data_type FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name = 'lease6'
           AND column_name = 'address') <> 'inet' THEN
        ALTER TABLE public.lease6 ALTER COLUMN address TYPE inet USING address::inet;

        -- kea-admin's lease-dump and lease-upload helpers of those versions pass the
        -- address as text; keep their signatures and convert inside.
        IF EXISTS (SELECT 1 FROM pg_proc
                    WHERE pronamespace = 'public'::regnamespace
                      AND proname = 'lease6dumpdata' AND pronargs = 0
                      AND pg_get_function_result(oid) LIKE 'TABLE(address character varying,%'
                      AND pg_get_function_result(oid) NOT LIKE '%pool_id%') THEN
            CREATE OR REPLACE FUNCTION public.lease6DumpData()
            RETURNS TABLE (
                address varchar, duid varchar, valid_lifetime bigint, expire bigint,
                subnet_id bigint, pref_lifetime bigint, lease_type smallint, iaid integer,
                prefix_len smallint, fqdn_fwd integer, fqdn_rev integer, hostname varchar,
                hwaddr varchar, state bigint, user_context varchar, hwtype smallint,
                hwaddr_source smallint)
            LANGUAGE sql AS $body$
                SELECT host(l.address)::varchar,
                       colonSeparatedHex(encode(l.duid, 'hex')),
                       l.valid_lifetime,
                       extract(epoch FROM l.expire)::bigint,
                       l.subnet_id, l.pref_lifetime, l.lease_type, l.iaid, l.prefix_len,
                       l.fqdn_fwd::int, l.fqdn_rev::int,
                       replace(l.hostname, ',', '&#x2c'),
                       colonSeparatedHex(encode(l.hwaddr, 'hex')),
                       l.state,
                       replace(l.user_context, ',', '&#x2c'),
                       l.hwtype, l.hwaddr_source
                  FROM public.lease6 l
                 ORDER BY l.address;
            $body$;
        END IF;

        IF EXISTS (SELECT 1 FROM pg_proc
                    WHERE pronamespace = 'public'::regnamespace
                      AND proname = 'lease6upload' AND pronargs = 17) THEN
            CREATE OR REPLACE FUNCTION public.lease6Upload(
                address varchar, duid varchar, valid_lifetime bigint, expire bigint,
                subnet_id bigint, pref_lifetime bigint, lease_type integer, iaid integer,
                prefix_len integer, fqdn_fwd integer, fqdn_rev integer, hostname varchar,
                hwaddr varchar, state bigint, user_context varchar, hwtype integer,
                hwaddr_source integer)
            RETURNS void
            LANGUAGE sql AS $body$
                INSERT INTO public.lease6 (address, duid, valid_lifetime, expire, subnet_id,
                    pref_lifetime, lease_type, iaid, prefix_len, fqdn_fwd, fqdn_rev, hostname,
                    hwaddr, state, user_context, hwtype, hwaddr_source)
                VALUES ($1::inet, decode(replace($2, ':', ''), 'hex'), $3, to_timestamp($4),
                    $5, $6, $7, $8, $9, $10::boolean, $11::boolean,
                    replace($12, '&#x2c', ','), decode(replace($13, ':', ''), 'hex'), $14,
                    replace($15, '&#x2c', ','), $16, $17);
            $body$;
        END IF;
    END IF;
END
$$;

CREATE INDEX IF NOT EXISTS lease6_by_duid_iaid_subnet_id ON public.lease6 (duid, iaid, subnet_id);
CREATE INDEX IF NOT EXISTS lease6_by_hostname ON public.lease6 (lower(hostname))
    WHERE hostname IS NOT NULL;
CREATE INDEX IF NOT EXISTS lease6_by_hwaddr ON public.lease6 (hwaddr);
CREATE INDEX IF NOT EXISTS lease6_by_state_expire ON public.lease6 (state, expire);
CREATE INDEX IF NOT EXISTS lease6_by_state ON public.lease6 (state, subnet_id);
CREATE INDEX IF NOT EXISTS lease6_by_subnet_id_lease_type ON public.lease6 (subnet_id, lease_type);
CREATE INDEX IF NOT EXISTS lease6_by_subnet_id_address ON public.lease6 (subnet_id, address);
