-- The zone server's data: zones, their records, and the journal of changes from
-- which IXFR (RFC 1995) is served. PostgreSQL is the truth; every appliance on the
-- database serves every zone here from an in-memory copy kept current by the
-- notifications on channel tern_dns and by the journal.
--
-- Every write is journaled and moves the zone's SOA serial exactly once per
-- transaction, whoever writes (tern, or plain SQL):
-- * statement triggers on dns_record journal each change ('-' old, '+' new, serial
--   still NULL) and mark the zone dirty (dirty_xact := this transaction); the mark
--   takes the zone row's lock, so writers of one zone are serialised;
-- * a change of the SOA columns of dns_zone marks it dirty too;
-- * a deferred constraint trigger on dns_zone runs at commit (or at SET CONSTRAINTS
--   ALL IMMEDIATE, which tern's writers use to learn the serial): the next serial
--   by soa_edit_api (or the one the transaction set, if higher), given to the
--   journal rows of the transaction, then NOTIFY tern_dns 'changed <id> <serial>'.
-- A serial never goes backwards (SQLSTATE TD001). Zone INSERT/DELETE announce
-- 'created <id>' / 'deleted <id>'. Names compare as DNS compares them, by ASCII
-- case only (RFC 4343): the name columns use collation "C", whose lower() folds
-- only A-Z.
--
-- Errors raised here carry SQLSTATEs of class TD, read by tern-store:
-- TD001 serial backwards, TD002 record outside its zone, TD003 zone renamed,
-- TD004 serial past 2^32-1, TD005 TRUNCATE refused.

CREATE TABLE IF NOT EXISTS tern.dns_zone (
    -- The zone's identity in foreign keys and notifications.
    id bigserial PRIMARY KEY,
    -- Absolute, lower case, with the trailing dot: 'example.com.' (the root: '.').
    name text COLLATE "C" NOT NULL UNIQUE CHECK (name ~ '\.$' AND name !~ '[A-Z]'),
    -- PowerDNS's zone kind, as PowerDNS spells it.
    kind text NOT NULL DEFAULT 'Native' CHECK (kind IN ('Native', 'Master', 'Slave')),
    -- How the serial moves on a change (PowerDNS's SOA-EDIT-API): DEFAULT
    -- (YYYYMMDD01 of today UTC, or +1 once there), INCREASE (+1), EPOCH (unix time,
    -- or +1 if that is not higher).
    soa_edit_api text NOT NULL DEFAULT 'DEFAULT'
        CHECK (soa_edit_api IN ('DEFAULT', 'INCREASE', 'EPOCH')),
    -- PowerDNS's account: who the zone belongs to, free text.
    account text NOT NULL DEFAULT '',
    -- The SOA serial (RFC 1035 §3.3.13), never lower than before. Left out of an
    -- INSERT it is chosen by soa_edit_api from 0 at commit.
    serial bigint NOT NULL CHECK (serial BETWEEN 0 AND 4294967295),
    -- The SOA record's TTL (RFC 2181 §8: 0..2^31-1).
    soa_ttl integer NOT NULL DEFAULT 3600 CHECK (soa_ttl >= 0),
    -- SOA MNAME: the primary name server, absolute.
    mname text COLLATE "C" NOT NULL CHECK (mname ~ '\.$'),
    -- SOA RNAME: the responsible mailbox as a name, absolute.
    rname text COLLATE "C" NOT NULL CHECK (rname ~ '\.$'),
    -- SOA REFRESH, seconds.
    refresh bigint NOT NULL DEFAULT 10800 CHECK (refresh BETWEEN 0 AND 4294967295),
    -- SOA RETRY, seconds.
    retry bigint NOT NULL DEFAULT 3600 CHECK (retry BETWEEN 0 AND 4294967295),
    -- SOA EXPIRE, seconds.
    expire bigint NOT NULL DEFAULT 604800 CHECK (expire BETWEEN 0 AND 4294967295),
    -- SOA MINIMUM: the negative-caching TTL (RFC 2308 §4).
    minimum bigint NOT NULL DEFAULT 3600 CHECK (minimum BETWEEN 0 AND 4294967295),
    -- The oldest serial from which the journal holds every change: IXFR from an
    -- older one falls back to AXFR. Set at the creating commit (NULL until then:
    -- a new zone's records are not journaled).
    journal_start bigint CHECK (journal_start BETWEEN 0 AND 4294967295),
    -- Internal: the transaction that changed the zone and has not committed yet
    -- (NULL when nothing is pending).
    dirty_xact xid8,
    -- Internal: the pending transaction set the serial itself (it is kept as set).
    serial_set boolean NOT NULL DEFAULT false,
    -- When the zone was created.
    created_at timestamptz NOT NULL DEFAULT now(),
    -- When the serial last moved.
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS tern.dns_record (
    -- Row identity (not visible in DNS).
    id bigserial PRIMARY KEY,
    -- The zone the record belongs to; its records go with it.
    zone_id bigint NOT NULL REFERENCES tern.dns_zone (id) ON DELETE CASCADE,
    -- Owner name, absolute, in the case it was written (answers preserve it);
    -- compared case-insensitively. At or below the zone's name.
    name text COLLATE "C" NOT NULL CHECK (name ~ '\.$'),
    -- Record type mnemonic, upper case ('A', 'TXT', 'TYPE65534'); never SOA (the
    -- SOA lives in dns_zone).
    type text COLLATE "C" NOT NULL CHECK (type ~ '^[A-Z][A-Z0-9-]*$' AND type <> 'SOA'),
    -- TTL in seconds (RFC 2181 §8: 0..2^31-1).
    ttl integer NOT NULL CHECK (ttl >= 0),
    -- RDATA in presentation format as tern_dnsmsg::content::render writes it,
    -- names absolute.
    content text NOT NULL,
    -- Who put it there: admin (API, zone file, RFC 2136 from outside) or dhcp
    -- (DDNS for a lease). DDNS does not overwrite admin records unless the zone
    -- allows it.
    managed_by text NOT NULL DEFAULT 'admin' CHECK (managed_by IN ('admin', 'dhcp')),
    -- When the row was written.
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One record per (owner, type, RDATA): duplicates are ignored (RFC 2136
-- §3.4.2.2). md5 of the content, since a btree entry holds at most ~2.7 kB and a
-- TXT record may be longer. Its prefix also serves lookups by owner and type, and
-- a zone's records in (lower(name), type) order.
CREATE UNIQUE INDEX IF NOT EXISTS dns_record_unique
    ON tern.dns_record (zone_id, lower(name), type, md5(content));

CREATE TABLE IF NOT EXISTS tern.dns_journal (
    -- Order of the changes.
    seq bigserial PRIMARY KEY,
    -- The zone changed.
    zone_id bigint NOT NULL REFERENCES tern.dns_zone (id) ON DELETE CASCADE,
    -- The serial (version) this change made; NULL until its transaction commits.
    serial bigint CHECK (serial BETWEEN 0 AND 4294967295),
    -- '-' the record was removed, '+' it was added. Each version also ends with
    -- one '+' SOA row: the SOA it made (MNAME RNAME SERIAL REFRESH RETRY EXPIRE
    -- MINIMUM), so every serial the zone had is here.
    op char(1) NOT NULL CHECK (op IN ('-', '+')),
    -- The record's owner name as written.
    name text COLLATE "C" NOT NULL,
    -- The record's type.
    type text COLLATE "C" NOT NULL,
    -- The record's TTL.
    ttl integer NOT NULL,
    -- The record's content.
    content text NOT NULL
);

-- IXFR: a zone's changes after a serial, in order; and the commit's "rows of
-- this transaction" (serial IS NULL).
CREATE INDEX IF NOT EXISTS dns_journal_version ON tern.dns_journal (zone_id, serial, seq);

-- Is an absolute name at or below the zone? ASCII case-insensitive.
CREATE OR REPLACE FUNCTION tern.dns_in_zone(name text, zone text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT zone = '.'
        OR lower(name COLLATE "C") = zone
        OR right(lower(name COLLATE "C"), length(zone) + 1) = '.' || zone;
$$;

-- The next serial by a zone's soa_edit_api rule.
CREATE OR REPLACE FUNCTION tern.dns_next_serial(rule text, serial bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT CASE rule
        WHEN 'INCREASE' THEN serial + 1
        WHEN 'EPOCH' THEN greatest(floor(extract(epoch FROM now()))::bigint, serial + 1)
        ELSE greatest(to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD')::bigint * 100 + 1,
                      serial + 1)
    END;
$$;

-- Before a zone row is written: a new zone is pending until its commit; on a
-- change, refuse what must not happen and mark SOA changes.
CREATE OR REPLACE FUNCTION tern.dns_zone_before() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.serial_set := NEW.serial IS NOT NULL;
        NEW.serial := coalesce(NEW.serial, 0);
        NEW.journal_start := NULL;
        NEW.dirty_xact := pg_current_xact_id();
        RETURN NEW;
    END IF;
    -- The commit trigger's own update.
    IF current_setting('tern.dns_committing', true) = 'on' THEN
        RETURN NEW;
    END IF;
    IF NEW.name <> OLD.name THEN
        RAISE EXCEPTION 'zone % cannot be renamed (to %)', OLD.name, NEW.name
            USING ERRCODE = 'TD003';
    END IF;
    IF NEW.serial < OLD.serial THEN
        RAISE EXCEPTION 'the serial of zone % cannot go back from % to %',
            OLD.name, OLD.serial, NEW.serial USING ERRCODE = 'TD001';
    END IF;
    IF NEW.serial > OLD.serial THEN
        NEW.serial_set := true;
    END IF;
    IF (NEW.serial, NEW.soa_ttl, NEW.mname, NEW.rname, NEW.refresh, NEW.retry,
        NEW.expire, NEW.minimum)
       IS DISTINCT FROM
       (OLD.serial, OLD.soa_ttl, OLD.mname, OLD.rname, OLD.refresh, OLD.retry,
        OLD.expire, OLD.minimum) THEN
        NEW.dirty_xact := pg_current_xact_id();
    END IF;
    RETURN NEW;
END
$$;

-- At commit of a transaction that changed the zone: the new serial, given to the
-- transaction's journal rows, and the announcement.
CREATE OR REPLACE FUNCTION tern.dns_zone_commit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    z tern.dns_zone%ROWTYPE;
    next bigint;
BEGIN
    SELECT * INTO z FROM tern.dns_zone WHERE id = NEW.id;
    -- Deleted since, or already done by an earlier event of this transaction.
    IF NOT FOUND OR z.dirty_xact IS NULL THEN
        RETURN NULL;
    END IF;
    IF z.serial_set THEN
        next := z.serial;
    ELSE
        next := tern.dns_next_serial(z.soa_edit_api, z.serial);
    END IF;
    IF next > 4294967295 THEN
        RAISE EXCEPTION 'the serial of zone % cannot pass 4294967295', z.name
            USING ERRCODE = 'TD004';
    END IF;
    PERFORM set_config('tern.dns_committing', 'on', true);
    UPDATE tern.dns_zone
       SET serial = next, serial_set = false, dirty_xact = NULL,
           journal_start = coalesce(journal_start, next), updated_at = now()
     WHERE id = z.id;
    PERFORM set_config('tern.dns_committing', 'off', true);
    -- A new zone has no history: it is announced as created.
    IF z.journal_start IS NOT NULL THEN
        UPDATE tern.dns_journal SET serial = next WHERE zone_id = z.id AND serial IS NULL;
        INSERT INTO tern.dns_journal (zone_id, serial, op, name, type, ttl, content)
        VALUES (z.id, next, '+', z.name, 'SOA', z.soa_ttl,
                concat_ws(' ', z.mname, z.rname, next, z.refresh, z.retry, z.expire,
                          z.minimum));
        PERFORM pg_notify('tern_dns', format('changed %s %s', z.id, next));
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION tern.dns_zone_announce() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM pg_notify('tern_dns', format('created %s', NEW.id));
    ELSE
        PERFORM pg_notify('tern_dns', format('deleted %s', OLD.id));
    END IF;
    RETURN NULL;
END
$$;

-- After each statement on dns_record: check the owners, journal what changed
-- (an UPDATE that leaves owner, type, TTL and content alone journals nothing),
-- and mark the zones. Zones created in this transaction are not journaled (they
-- have no history yet), nor are records going with their deleted zone.
CREATE OR REPLACE FUNCTION tern.dns_record_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    IF TG_OP <> 'DELETE' THEN
        SELECT n.name, z.name AS zone INTO bad
          FROM new_rows n JOIN tern.dns_zone z ON z.id = n.zone_id
         WHERE NOT tern.dns_in_zone(n.name, z.name)
         LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION '% is not in zone %', bad.name, bad.zone
                USING ERRCODE = 'TD002';
        END IF;
    END IF;
    IF TG_OP = 'INSERT' THEN
        WITH j AS (
            INSERT INTO tern.dns_journal (zone_id, op, name, type, ttl, content)
            SELECT n.zone_id, '+', n.name, n.type, n.ttl, n.content
              FROM new_rows n JOIN tern.dns_zone z ON z.id = n.zone_id
             WHERE z.journal_start IS NOT NULL
             ORDER BY n.id
            RETURNING zone_id)
        UPDATE tern.dns_zone SET dirty_xact = pg_current_xact_id()
         WHERE id IN (SELECT zone_id FROM j)
           AND dirty_xact IS DISTINCT FROM pg_current_xact_id();
    ELSIF TG_OP = 'DELETE' THEN
        WITH j AS (
            INSERT INTO tern.dns_journal (zone_id, op, name, type, ttl, content)
            SELECT o.zone_id, '-', o.name, o.type, o.ttl, o.content
              FROM old_rows o JOIN tern.dns_zone z ON z.id = o.zone_id
             WHERE z.journal_start IS NOT NULL
             ORDER BY o.id
            RETURNING zone_id)
        UPDATE tern.dns_zone SET dirty_xact = pg_current_xact_id()
         WHERE id IN (SELECT zone_id FROM j)
           AND dirty_xact IS DISTINCT FROM pg_current_xact_id();
    ELSE
        WITH changed AS (
            SELECT o.id AS old_id, n.id AS new_id
              FROM old_rows o FULL JOIN new_rows n ON n.id = o.id
             WHERE (o.zone_id, o.name, o.type, o.ttl, o.content)
                   IS DISTINCT FROM (n.zone_id, n.name, n.type, n.ttl, n.content)),
        j AS (
            INSERT INTO tern.dns_journal (zone_id, op, name, type, ttl, content)
            SELECT c.zone_id, c.op, c.name, c.type, c.ttl, c.content
              FROM (SELECT 0 AS part, o.id, o.zone_id, '-' AS op, o.name, o.type, o.ttl, o.content
                      FROM old_rows o JOIN changed ON changed.old_id = o.id
                    UNION ALL
                    SELECT 1, n.id, n.zone_id, '+', n.name, n.type, n.ttl, n.content
                      FROM new_rows n JOIN changed ON changed.new_id = n.id) c
              JOIN tern.dns_zone z ON z.id = c.zone_id
             WHERE z.journal_start IS NOT NULL
             ORDER BY c.part, c.id
            RETURNING zone_id)
        UPDATE tern.dns_zone SET dirty_xact = pg_current_xact_id()
         WHERE id IN (SELECT zone_id FROM j)
           AND dirty_xact IS DISTINCT FROM pg_current_xact_id();
    END IF;
    RETURN NULL;
END
$$;

-- TRUNCATE fires no row or statement triggers that could journal it.
CREATE OR REPLACE FUNCTION tern.dns_refuse_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'TRUNCATE of %.% would bypass the DNS journal: use DELETE',
        TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'TD005';
END
$$;

DROP TRIGGER IF EXISTS tern_dns_zone_before ON tern.dns_zone;
CREATE TRIGGER tern_dns_zone_before BEFORE INSERT OR UPDATE ON tern.dns_zone
    FOR EACH ROW EXECUTE FUNCTION tern.dns_zone_before();

DROP TRIGGER IF EXISTS tern_dns_zone_commit ON tern.dns_zone;
CREATE CONSTRAINT TRIGGER tern_dns_zone_commit AFTER INSERT OR UPDATE ON tern.dns_zone
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.dirty_xact IS NOT NULL)
    EXECUTE FUNCTION tern.dns_zone_commit();

DROP TRIGGER IF EXISTS tern_dns_zone_announce ON tern.dns_zone;
CREATE TRIGGER tern_dns_zone_announce AFTER INSERT OR DELETE ON tern.dns_zone
    FOR EACH ROW EXECUTE FUNCTION tern.dns_zone_announce();

DROP TRIGGER IF EXISTS tern_dns_record_insert ON tern.dns_record;
CREATE TRIGGER tern_dns_record_insert AFTER INSERT ON tern.dns_record
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tern.dns_record_changed();

DROP TRIGGER IF EXISTS tern_dns_record_update ON tern.dns_record;
CREATE TRIGGER tern_dns_record_update AFTER UPDATE ON tern.dns_record
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tern.dns_record_changed();

DROP TRIGGER IF EXISTS tern_dns_record_delete ON tern.dns_record;
CREATE TRIGGER tern_dns_record_delete AFTER DELETE ON tern.dns_record
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tern.dns_record_changed();

DROP TRIGGER IF EXISTS tern_dns_record_truncate ON tern.dns_record;
CREATE TRIGGER tern_dns_record_truncate BEFORE TRUNCATE ON tern.dns_record
    FOR EACH STATEMENT EXECUTE FUNCTION tern.dns_refuse_truncate();

DROP TRIGGER IF EXISTS tern_dns_journal_truncate ON tern.dns_journal;
CREATE TRIGGER tern_dns_journal_truncate BEFORE TRUNCATE ON tern.dns_journal
    FOR EACH STATEMENT EXECUTE FUNCTION tern.dns_refuse_truncate();
