-- The embedded local workspace: one SQLite file (WAL) shared by every console on the machine.
-- Triggers append every change to `changes`; each process tails it by `seq`, so a write by one process
-- is seen by the others at their next poll, whoever wrote it (console, simulator, supervisor).

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
    id                INTEGER PRIMARY KEY,
    channel           TEXT NOT NULL,
    state             TEXT NOT NULL,
    subject           TEXT NOT NULL DEFAULT '',
    customer_id       TEXT NOT NULL,
    customer_name     TEXT NOT NULL DEFAULT '',
    language          TEXT NOT NULL DEFAULT 'en',
    queue             TEXT NOT NULL DEFAULT 'general',
    priority          INTEGER NOT NULL DEFAULT 1,
    tags              TEXT NOT NULL DEFAULT '',      -- comma-separated, lower case
    assignee          TEXT,
    created_at        REAL NOT NULL,
    updated_at        REAL NOT NULL,
    first_response_at REAL,
    last_customer_at  REAL,
    answered_at       REAL,
    closed_at         REAL,
    sla_due_at        REAL,
    snoozed_until     REAL,
    callback_number   TEXT NOT NULL DEFAULT '',
    callback_at       REAL,
    callback_attempts INTEGER NOT NULL DEFAULT 0,
    linked_id         INTEGER,                       -- a callback's placed call, or a merge target
    muted             INTEGER NOT NULL DEFAULT 0,
    held_since        REAL,
    wrap_up_since     REAL,
    unread            INTEGER NOT NULL DEFAULT 0,
    patience_until    REAL,                          -- simulator: when an unanswered caller gives up
    version           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS conversations_open ON conversations (closed_at, channel);
CREATE INDEX IF NOT EXISTS conversations_assignee ON conversations (assignee);
CREATE INDEX IF NOT EXISTS conversations_customer ON conversations (customer_id);

CREATE TABLE IF NOT EXISTS messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    direction       TEXT NOT NULL,
    author          TEXT NOT NULL DEFAULT '',
    body            TEXT NOT NULL DEFAULT '',
    created_at      REAL NOT NULL,
    attachments     TEXT NOT NULL DEFAULT '[]',       -- JSON list of {filename, content_type, size, ref}
    email           TEXT,                             -- JSON EmailHeaders, email-like channels only
    raw             BLOB                              -- the original MIME message, when there is one
);
CREATE INDEX IF NOT EXISTS messages_conversation ON messages (conversation_id, id);

CREATE TABLE IF NOT EXISTS agents (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    skills          TEXT NOT NULL DEFAULT '{}',       -- JSON {channels: {chan: level}, languages: [], seniority}
    capacity        TEXT NOT NULL DEFAULT '{}',       -- JSON {chan: n}
    presence        TEXT NOT NULL DEFAULT 'offline',
    presence_reason TEXT NOT NULL DEFAULT '',
    presence_since  REAL NOT NULL DEFAULT 0,
    viewing         INTEGER,
    typing_in       INTEGER,
    last_seen       REAL NOT NULL DEFAULT 0,
    supervisor      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS wrapups (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL,
    agent_id        TEXT NOT NULL,
    disposition     TEXT NOT NULL,
    note            TEXT NOT NULL DEFAULT '',
    at              REAL NOT NULL,
    handle_seconds  REAL NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS csat (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL,
    channel         TEXT NOT NULL,
    score           INTEGER NOT NULL,
    comment         TEXT NOT NULL DEFAULT '',
    at              REAL NOT NULL,
    agent_id        TEXT,
    customer_id     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS csat_at ON csat (at);

-- Survey requests waiting for the customer's answer (the simulator answers them).
CREATE TABLE IF NOT EXISTS csat_requests (
    conversation_id INTEGER PRIMARY KEY,
    requested_at    REAL NOT NULL
);

-- Who is typing where: the customer in a chat, or an agent (collision warnings).
CREATE TABLE IF NOT EXISTS typing (
    conversation_id INTEGER NOT NULL,
    who             TEXT NOT NULL,
    until           REAL NOT NULL,
    PRIMARY KEY (conversation_id, who)
);

-- Push-mode routing: an item offered to one agent at a time, until it is accepted, declined or expires.
CREATE TABLE IF NOT EXISTS offers (
    conversation_id INTEGER PRIMARY KEY,
    agent_id        TEXT NOT NULL,
    offered_at      REAL NOT NULL,
    expires_at      REAL NOT NULL
);

-- A declined or expired push offer keeps the item away from that agent for a cool-down (console/team.py).
CREATE TABLE IF NOT EXISTS routing_refusals (
    conversation_id INTEGER NOT NULL,
    agent_id        TEXT NOT NULL,
    at              REAL NOT NULL,
    reason          TEXT NOT NULL,
    PRIMARY KEY (conversation_id, agent_id)
);

-- One row per running console: its heartbeat (backends/local/sessions.py). No change trigger: beats do not
-- flood the feed; a console silent for `gone_after` is reaped and its agent set offline by the others.
CREATE TABLE IF NOT EXISTS sessions (
    id         TEXT PRIMARY KEY,
    agent_id   TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    host       TEXT NOT NULL,
    started_at REAL NOT NULL,
    beat_at    REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_agent ON sessions (agent_id);
CREATE INDEX IF NOT EXISTS sessions_beat ON sessions (beat_at);

-- Idempotency: a command key seen once is never applied twice (the outbox may retry after a crash).
CREATE TABLE IF NOT EXISTS command_keys (
    key    TEXT PRIMARY KEY,
    result TEXT NOT NULL,
    at     REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS changes (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,   -- conversation | message | agent | customer | csat | wrapup | typing
    ref  TEXT NOT NULL
);

CREATE TRIGGER IF NOT EXISTS conversations_ins AFTER INSERT ON conversations
BEGIN INSERT INTO changes (kind, ref) VALUES ('conversation', NEW.id); END;
CREATE TRIGGER IF NOT EXISTS conversations_upd AFTER UPDATE ON conversations
BEGIN INSERT INTO changes (kind, ref) VALUES ('conversation', NEW.id); END;
CREATE TRIGGER IF NOT EXISTS messages_ins AFTER INSERT ON messages
BEGIN INSERT INTO changes (kind, ref) VALUES ('message', NEW.id); END;
-- A merge moves messages to another conversation: other consoles must hear of it.
CREATE TRIGGER IF NOT EXISTS messages_upd AFTER UPDATE OF conversation_id ON messages
BEGIN INSERT INTO changes (kind, ref) VALUES ('message', NEW.id); END;
CREATE TRIGGER IF NOT EXISTS agents_ins AFTER INSERT ON agents
BEGIN INSERT INTO changes (kind, ref) VALUES ('agent', NEW.id); END;
CREATE TRIGGER IF NOT EXISTS agents_upd AFTER UPDATE ON agents
BEGIN INSERT INTO changes (kind, ref) VALUES ('agent', NEW.id); END;
CREATE TRIGGER IF NOT EXISTS customers_ins AFTER INSERT ON customers
BEGIN INSERT INTO changes (kind, ref) VALUES ('customer', NEW.id); END;
CREATE TRIGGER IF NOT EXISTS customers_upd AFTER UPDATE ON customers
BEGIN INSERT INTO changes (kind, ref) VALUES ('customer', NEW.id); END;
CREATE TRIGGER IF NOT EXISTS csat_ins AFTER INSERT ON csat
BEGIN INSERT INTO changes (kind, ref) VALUES ('csat', NEW.id); END;
CREATE TRIGGER IF NOT EXISTS wrapups_ins AFTER INSERT ON wrapups
BEGIN INSERT INTO changes (kind, ref) VALUES ('wrapup', NEW.id); END;
-- Offers reach the other consoles through the change feed, as everything else does.
CREATE TRIGGER IF NOT EXISTS offers_ins AFTER INSERT ON offers
BEGIN INSERT INTO changes (kind, ref) VALUES ('offer', NEW.conversation_id); END;
CREATE TRIGGER IF NOT EXISTS offers_del AFTER DELETE ON offers
BEGIN INSERT INTO changes (kind, ref) VALUES ('offer', OLD.conversation_id); END;
CREATE TRIGGER IF NOT EXISTS typing_ins AFTER INSERT ON typing
BEGIN INSERT INTO changes (kind, ref) VALUES ('typing', NEW.conversation_id || ' ' || NEW.who); END;
CREATE TRIGGER IF NOT EXISTS typing_upd AFTER UPDATE ON typing
BEGIN INSERT INTO changes (kind, ref) VALUES ('typing', NEW.conversation_id || ' ' || NEW.who); END;
CREATE TRIGGER IF NOT EXISTS typing_del AFTER DELETE ON typing
BEGIN INSERT INTO changes (kind, ref) VALUES ('typing', OLD.conversation_id || ' ' || OLD.who); END;
