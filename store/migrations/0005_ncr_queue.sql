-- The NameChangeRequest queue (an outbox): every NCR d2 acts on is written here
-- first, by the DHCP engine inside its lease transaction or by d2's UDP intake,
-- and leaves the pending state only when DNS holds the result or the request
-- has definitively failed. Several d2 processes may drain one queue: rows are
-- claimed with FOR UPDATE SKIP LOCKED, and at most one row per FQDN is ever
-- in progress (enforced by a unique index, not only by the claim query).
-- INSERTs are announced on the notification channel tern_ncr.

CREATE TABLE IF NOT EXISTS tern.ncr_queue (
    -- Queue order: older rows of one FQDN are always processed first.
    id bigserial PRIMARY KEY,
    -- When the request entered the queue.
    received_at timestamptz NOT NULL DEFAULT now(),
    -- Who queued it: udp (a Kea server), dhcp4 / dhcp6 (tern's engine), api.
    source text NOT NULL CHECK (source IN ('udp', 'dhcp4', 'dhcp6', 'api')),
    -- The whole request in Kea's NCR JSON (the form Kea sends over UDP).
    ncr text NOT NULL,
    -- 0 add, 1 remove (Kea's change-type), for reports and the API.
    change_type smallint NOT NULL CHECK (change_type IN (0, 1)),
    -- The client's name as sent.
    fqdn text NOT NULL,
    -- Lower-case FQDN without the trailing dot: transactions are serialised on it.
    fqdn_key text NOT NULL,
    -- The leased address.
    ip_address inet NOT NULL,
    -- pending: waiting (maybe until next_attempt_at); in_progress: claimed by a
    -- d2; done: DNS holds the result; conflict: refused by conflict resolution
    -- (the name belongs to another client); failed: given up, see last_error.
    state text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'in_progress', 'done', 'failed', 'conflict')),
    -- How many times the request was claimed.
    attempts integer NOT NULL DEFAULT 0,
    -- A pending row is not claimed before this time (retry backoff).
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- The d2 that holds the row (host:pid:nonce) while in_progress.
    claimed_by text,
    -- When the holder claimed the row or last renewed its lease on it; an
    -- in_progress row not renewed for the lease timeout is taken back.
    claimed_at timestamptz,
    -- Why the last attempt did not finish (retry) or why it failed.
    last_error text,
    -- When the row reached done, failed or conflict.
    finished_at timestamptz
);

-- The claim query's scan: pending rows by due time.
CREATE INDEX IF NOT EXISTS ncr_queue_pending_due
    ON tern.ncr_queue (next_attempt_at, id) WHERE state = 'pending';
-- "Is an older row of this FQDN still waiting or running?"
CREATE INDEX IF NOT EXISTS ncr_queue_active_fqdn
    ON tern.ncr_queue (fqdn_key, id) WHERE state IN ('pending', 'in_progress');
-- One transaction per FQDN at a time, whatever the number of d2 processes.
CREATE UNIQUE INDEX IF NOT EXISTS ncr_queue_one_in_progress_per_fqdn
    ON tern.ncr_queue (fqdn_key) WHERE state = 'in_progress';
-- Retention: finished rows by age.
CREATE INDEX IF NOT EXISTS ncr_queue_finished
    ON tern.ncr_queue (finished_at) WHERE finished_at IS NOT NULL;

-- One notification per inserting statement; d2 LISTENs and claims at once.
CREATE OR REPLACE FUNCTION tern.ncr_queue_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tern_ncr', '');
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS tern_ncr_queue_notify ON tern.ncr_queue;
CREATE TRIGGER tern_ncr_queue_notify AFTER INSERT ON tern.ncr_queue
    FOR EACH STATEMENT EXECUTE FUNCTION tern.ncr_queue_notify();
