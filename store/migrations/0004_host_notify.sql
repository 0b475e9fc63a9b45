-- Host reservation changes are announced on the notification channel tern_hosts,
-- so every tern process reloads the reservation without a restart, whoever wrote
-- it: tern's API, Kea's host_cmds, or a script with plain SQL.
--
-- Payload (JSON): op (insert | update | delete | truncate), table, host_id,
-- identifier (hex), identifier_type, dhcp4_subnet_id, dhcp6_subnet_id.
-- NOTIFY is delivered at commit, and not at all if the transaction rolls back.

CREATE OR REPLACE FUNCTION tern.notify_host(
    op text, source text, host_id integer, identifier bytea,
    identifier_type smallint, dhcp4_subnet_id bigint, dhcp6_subnet_id bigint)
RETURNS void
LANGUAGE sql AS $$
    SELECT pg_notify('tern_hosts', json_build_object(
        'op', op,
        'table', source,
        'host_id', host_id,
        'identifier', encode(identifier, 'hex'),
        'identifier_type', identifier_type,
        'dhcp4_subnet_id', dhcp4_subnet_id,
        'dhcp6_subnet_id', dhcp6_subnet_id)::text);
$$;

CREATE OR REPLACE FUNCTION tern.hosts_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM tern.notify_host('insert', TG_TABLE_NAME, NEW.host_id, NEW.dhcp_identifier,
            NEW.dhcp_identifier_type, NEW.dhcp4_subnet_id, NEW.dhcp6_subnet_id);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM tern.notify_host('delete', TG_TABLE_NAME, OLD.host_id, OLD.dhcp_identifier,
            OLD.dhcp_identifier_type, OLD.dhcp4_subnet_id, OLD.dhcp6_subnet_id);
    ELSIF (OLD.host_id, OLD.dhcp_identifier, OLD.dhcp_identifier_type,
           OLD.dhcp4_subnet_id, OLD.dhcp6_subnet_id)
          IS DISTINCT FROM
          (NEW.host_id, NEW.dhcp_identifier, NEW.dhcp_identifier_type,
           NEW.dhcp4_subnet_id, NEW.dhcp6_subnet_id) THEN
        -- The reservation now answers to another key: announce the old key gone,
        -- so caches keyed by identifier and subnet drop it.
        PERFORM tern.notify_host('delete', TG_TABLE_NAME, OLD.host_id, OLD.dhcp_identifier,
            OLD.dhcp_identifier_type, OLD.dhcp4_subnet_id, OLD.dhcp6_subnet_id);
        PERFORM tern.notify_host('insert', TG_TABLE_NAME, NEW.host_id, NEW.dhcp_identifier,
            NEW.dhcp_identifier_type, NEW.dhcp4_subnet_id, NEW.dhcp6_subnet_id);
    ELSE
        PERFORM tern.notify_host('update', TG_TABLE_NAME, NEW.host_id, NEW.dhcp_identifier,
            NEW.dhcp_identifier_type, NEW.dhcp4_subnet_id, NEW.dhcp6_subnet_id);
    END IF;
    RETURN NULL;
END
$$;

-- ipv6_reservations and the options tables: a change is an update of the host it
-- belongs to. Rows of a host being deleted find no host and stay silent (the
-- host's own delete is announced); options without a host are not reservations.
CREATE OR REPLACE FUNCTION tern.host_part_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids integer[];
    h record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        ids := ARRAY[NEW.host_id];
    ELSIF TG_OP = 'DELETE' THEN
        ids := ARRAY[OLD.host_id];
    ELSIF NEW.host_id IS DISTINCT FROM OLD.host_id THEN
        ids := ARRAY[OLD.host_id, NEW.host_id];
    ELSE
        ids := ARRAY[NEW.host_id];
    END IF;
    FOR h IN SELECT hs.host_id, hs.dhcp_identifier, hs.dhcp_identifier_type,
                    hs.dhcp4_subnet_id, hs.dhcp6_subnet_id
               FROM public.hosts hs
              WHERE hs.host_id = ANY (ids) LOOP
        PERFORM tern.notify_host('update', TG_TABLE_NAME, h.host_id, h.dhcp_identifier,
            h.dhcp_identifier_type, h.dhcp4_subnet_id, h.dhcp6_subnet_id);
    END LOOP;
    RETURN NULL;
END
$$;

-- TRUNCATE fires no row triggers: tell listeners to reload everything.
CREATE OR REPLACE FUNCTION tern.hosts_truncate_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tern_hosts',
        json_build_object('op', 'truncate', 'table', TG_TABLE_NAME)::text);
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS tern_host_notify ON public.hosts;
CREATE TRIGGER tern_host_notify AFTER INSERT OR UPDATE OR DELETE ON public.hosts
    FOR EACH ROW EXECUTE FUNCTION tern.hosts_notify();

DROP TRIGGER IF EXISTS tern_host_notify ON public.ipv6_reservations;
CREATE TRIGGER tern_host_notify AFTER INSERT OR UPDATE OR DELETE ON public.ipv6_reservations
    FOR EACH ROW EXECUTE FUNCTION tern.host_part_notify();

DROP TRIGGER IF EXISTS tern_host_notify ON public.dhcp4_options;
CREATE TRIGGER tern_host_notify AFTER INSERT OR UPDATE OR DELETE ON public.dhcp4_options
    FOR EACH ROW EXECUTE FUNCTION tern.host_part_notify();

DROP TRIGGER IF EXISTS tern_host_notify ON public.dhcp6_options;
CREATE TRIGGER tern_host_notify AFTER INSERT OR UPDATE OR DELETE ON public.dhcp6_options
    FOR EACH ROW EXECUTE FUNCTION tern.host_part_notify();

DROP TRIGGER IF EXISTS tern_host_notify_truncate ON public.hosts;
CREATE TRIGGER tern_host_notify_truncate AFTER TRUNCATE ON public.hosts
    FOR EACH STATEMENT EXECUTE FUNCTION tern.hosts_truncate_notify();

DROP TRIGGER IF EXISTS tern_host_notify_truncate ON public.ipv6_reservations;
CREATE TRIGGER tern_host_notify_truncate AFTER TRUNCATE ON public.ipv6_reservations
    FOR EACH STATEMENT EXECUTE FUNCTION tern.hosts_truncate_notify();

DROP TRIGGER IF EXISTS tern_host_notify_truncate ON public.dhcp4_options;
CREATE TRIGGER tern_host_notify_truncate AFTER TRUNCATE ON public.dhcp4_options
    FOR EACH STATEMENT EXECUTE FUNCTION tern.hosts_truncate_notify();

DROP TRIGGER IF EXISTS tern_host_notify_truncate ON public.dhcp6_options;
CREATE TRIGGER tern_host_notify_truncate AFTER TRUNCATE ON public.dhcp6_options
    FOR EACH STATEMENT EXECUTE FUNCTION tern.hosts_truncate_notify();
