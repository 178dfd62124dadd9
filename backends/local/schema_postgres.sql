-- The workspace on PostgreSQL: the tables of schema.sql, in PostgreSQL's types, for a team on many machines.
-- As on the file, triggers append every change to `changes`; a trigger on `changes` then NOTIFYs its seq on
-- `standardiste_changes`, so another console hears of it at once, and reads `seq > last` to catch up (a lost
-- notification, or a dropped connection, loses nothing). Row ids are the file's: MAX(id) + 1 unless given,
-- under the writers' lock (postgres.py), so the backfill's explicit ids and new rows never collide.
-- Run by workspace.py in one transaction under the writers' lock: statements end at a line `;` or `$$;`.

CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS customers (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    language      TEXT NOT NULL DEFAULT 'en',
    email         TEXT NOT NULL DEFAULT '',
    phone         TEXT NOT NULL DEFAULT '',
    social_handle TEXT NOT NULL DEFAULT '',
    country       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS customers_email ON customers (email);
CREATE INDEX IF NOT EXISTS customers_phone ON customers (phone);

CREATE TABLE IF NOT EXISTS conversations (
    id                BIGINT PRIMARY KEY,
    channel           TEXT NOT NULL,
    state             TEXT NOT NULL,
    subject           TEXT NOT NULL DEFAULT '',
    customer_id       TEXT NOT NULL,
    customer_name     TEXT NOT NULL DEFAULT '',
    language          TEXT NOT NULL DEFAULT 'en',
    queue             TEXT NOT NULL DEFAULT 'general',
    priority          INTEGER NOT NULL DEFAULT 1,
    tags              TEXT NOT NULL DEFAULT '',
    assignee          TEXT,
    created_at        DOUBLE PRECISION NOT NULL,
    updated_at        DOUBLE PRECISION NOT NULL,
    first_response_at DOUBLE PRECISION,
    last_customer_at  DOUBLE PRECISION,
    answered_at       DOUBLE PRECISION,
    closed_at         DOUBLE PRECISION,
    sla_due_at        DOUBLE PRECISION,
    snoozed_until     DOUBLE PRECISION,
    callback_number   TEXT NOT NULL DEFAULT '',
    callback_at       DOUBLE PRECISION,
    callback_attempts INTEGER NOT NULL DEFAULT 0,
    linked_id         BIGINT,
    muted             INTEGER NOT NULL DEFAULT 0,
    held_since        DOUBLE PRECISION,
    wrap_up_since     DOUBLE PRECISION,
    unread            INTEGER NOT NULL DEFAULT 0,
    patience_until    DOUBLE PRECISION,
    version           BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS conversations_open ON conversations (closed_at, channel);
CREATE INDEX IF NOT EXISTS conversations_assignee ON conversations (assignee);
CREATE INDEX IF NOT EXISTS conversations_customer ON conversations (customer_id);

CREATE TABLE IF NOT EXISTS messages (
    id              BIGINT PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    direction       TEXT NOT NULL,
    author          TEXT NOT NULL DEFAULT '',
    body            TEXT NOT NULL DEFAULT '',
    created_at      DOUBLE PRECISION NOT NULL,
    attachments     TEXT NOT NULL DEFAULT '[]',
    email           TEXT,
    raw             BYTEA
);
CREATE INDEX IF NOT EXISTS messages_conversation ON messages (conversation_id, id);

CREATE TABLE IF NOT EXISTS agents (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    skills          TEXT NOT NULL DEFAULT '{}',
    capacity        TEXT NOT NULL DEFAULT '{}',
    presence        TEXT NOT NULL DEFAULT 'offline',
    presence_reason TEXT NOT NULL DEFAULT '',
    presence_since  DOUBLE PRECISION NOT NULL DEFAULT 0,
    viewing         BIGINT,
    typing_in       BIGINT,
    last_seen       DOUBLE PRECISION NOT NULL DEFAULT 0,
    supervisor      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS wrapups (
    id              BIGINT PRIMARY KEY,
    conversation_id BIGINT NOT NULL,
    agent_id        TEXT NOT NULL,
    disposition     TEXT NOT NULL,
    note            TEXT NOT NULL DEFAULT '',
    at              DOUBLE PRECISION NOT NULL,
    handle_seconds  DOUBLE PRECISION NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS csat (
    id              BIGINT PRIMARY KEY,
    conversation_id BIGINT NOT NULL,
    channel         TEXT NOT NULL,
    score           INTEGER NOT NULL,
    comment         TEXT NOT NULL DEFAULT '',
    at              DOUBLE PRECISION NOT NULL,
    agent_id        TEXT,
    customer_id     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS csat_at ON csat (at);

CREATE TABLE IF NOT EXISTS csat_requests (
    conversation_id BIGINT PRIMARY KEY,
    requested_at    DOUBLE PRECISION NOT NULL
);

CREATE TABLE IF NOT EXISTS typing (
    conversation_id BIGINT NOT NULL,
    who             TEXT NOT NULL,
    until           DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (conversation_id, who)
);

CREATE TABLE IF NOT EXISTS offers (
    conversation_id BIGINT PRIMARY KEY,
    agent_id        TEXT NOT NULL,
    offered_at      DOUBLE PRECISION NOT NULL,
    expires_at      DOUBLE PRECISION NOT NULL
);

CREATE TABLE IF NOT EXISTS routing_refusals (
    conversation_id BIGINT NOT NULL,
    agent_id        TEXT NOT NULL,
    at              DOUBLE PRECISION NOT NULL,
    reason          TEXT NOT NULL,
    PRIMARY KEY (conversation_id, agent_id)
);

CREATE TABLE IF NOT EXISTS sessions (
    id         TEXT PRIMARY KEY,
    agent_id   TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    host       TEXT NOT NULL,
    started_at DOUBLE PRECISION NOT NULL,
    beat_at    DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_agent ON sessions (agent_id);
CREATE INDEX IF NOT EXISTS sessions_beat ON sessions (beat_at);

CREATE TABLE IF NOT EXISTS command_keys (
    key    TEXT PRIMARY KEY,
    result TEXT NOT NULL,
    at     DOUBLE PRECISION NOT NULL
);

CREATE TABLE IF NOT EXISTS changes (
    seq  BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    ref  TEXT NOT NULL
);

-- Static statements, not EXECUTE: plpgsql keeps their plans, and a backfill inserts 100k rows.
CREATE OR REPLACE FUNCTION standardiste_row_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        CASE TG_TABLE_NAME
            WHEN 'conversations' THEN SELECT COALESCE(MAX(id), 0) + 1 INTO NEW.id FROM conversations;
            WHEN 'messages' THEN SELECT COALESCE(MAX(id), 0) + 1 INTO NEW.id FROM messages;
            WHEN 'wrapups' THEN SELECT COALESCE(MAX(id), 0) + 1 INTO NEW.id FROM wrapups;
            ELSE SELECT COALESCE(MAX(id), 0) + 1 INTO NEW.id FROM csat;
        END CASE;
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION standardiste_change_by_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO changes (kind, ref) VALUES (TG_ARGV[0], NEW.id::text);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION standardiste_change_by_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO changes (kind, ref) VALUES (TG_ARGV[0], OLD.conversation_id::text);
    ELSE
        INSERT INTO changes (kind, ref) VALUES (TG_ARGV[0], NEW.conversation_id::text);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION standardiste_change_typing() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO changes (kind, ref) VALUES ('typing', OLD.conversation_id::text || ' ' || OLD.who);
    ELSE
        INSERT INTO changes (kind, ref) VALUES ('typing', NEW.conversation_id::text || ' ' || NEW.who);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION standardiste_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('standardiste_changes', NEW.seq::text);
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER conversations_id BEFORE INSERT ON conversations
FOR EACH ROW EXECUTE FUNCTION standardiste_row_id();
CREATE OR REPLACE TRIGGER messages_id BEFORE INSERT ON messages
FOR EACH ROW EXECUTE FUNCTION standardiste_row_id();
CREATE OR REPLACE TRIGGER wrapups_id BEFORE INSERT ON wrapups
FOR EACH ROW EXECUTE FUNCTION standardiste_row_id();
CREATE OR REPLACE TRIGGER csat_id BEFORE INSERT ON csat
FOR EACH ROW EXECUTE FUNCTION standardiste_row_id();

CREATE OR REPLACE TRIGGER conversations_ins AFTER INSERT ON conversations
FOR EACH ROW EXECUTE FUNCTION standardiste_change_by_id('conversation');
CREATE OR REPLACE TRIGGER conversations_upd AFTER UPDATE ON conversations
FOR EACH ROW EXECUTE FUNCTION standardiste_change_by_id('conversation');
CREATE OR REPLACE TRIGGER messages_ins AFTER INSERT ON messages
FOR EACH ROW EXECUTE FUNCTION standardiste_change_by_id('message');
CREATE OR REPLACE TRIGGER messages_upd AFTER UPDATE OF conversation_id ON messages
FOR EACH ROW EXECUTE FUNCTION standardiste_change_by_id('message');
CREATE OR REPLACE TRIGGER agents_ins AFTER INSERT ON agents
FOR EACH ROW EXECUTE FUNCTION standardiste_change_by_id('agent');
CREATE OR REPLACE TRIGGER agents_upd AFTER UPDATE ON agents
FOR EACH ROW EXECUTE FUNCTION standardiste_change_by_id('agent');
CREATE OR REPLACE TRIGGER customers_ins AFTER INSERT ON customers
FOR EACH ROW EXECUTE FUNCTION standardiste_change_by_id('customer');
CREATE OR REPLACE TRIGGER customers_upd AFTER UPDATE ON customers
FOR EACH ROW EXECUTE FUNCTION standardiste_change_by_id('customer');
CREATE OR REPLACE TRIGGER csat_ins AFTER INSERT ON csat
FOR EACH ROW EXECUTE FUNCTION standardiste_change_by_id('csat');
CREATE OR REPLACE TRIGGER wrapups_ins AFTER INSERT ON wrapups
FOR EACH ROW EXECUTE FUNCTION standardiste_change_by_id('wrapup');
CREATE OR REPLACE TRIGGER offers_ins AFTER INSERT ON offers
FOR EACH ROW EXECUTE FUNCTION standardiste_change_by_conversation('offer');
CREATE OR REPLACE TRIGGER offers_del AFTER DELETE ON offers
FOR EACH ROW EXECUTE FUNCTION standardiste_change_by_conversation('offer');
CREATE OR REPLACE TRIGGER typing_ins AFTER INSERT ON typing
FOR EACH ROW EXECUTE FUNCTION standardiste_change_typing();
CREATE OR REPLACE TRIGGER typing_upd AFTER UPDATE ON typing
FOR EACH ROW EXECUTE FUNCTION standardiste_change_typing();
CREATE OR REPLACE TRIGGER typing_del AFTER DELETE ON typing
FOR EACH ROW EXECUTE FUNCTION standardiste_change_typing();
CREATE OR REPLACE TRIGGER changes_notify AFTER INSERT ON changes
FOR EACH ROW EXECUTE FUNCTION standardiste_notify_change();
