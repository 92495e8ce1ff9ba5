-- App store: tenants and their API keys, persisted turns, knowledge-base documents.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE tenants (
  id          text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_]{0,62}$'),
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Keys are stored as SHA-256 hashes; the plain key is shown once when created.
CREATE TABLE api_keys (
  key_hash    text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants(id),
  label       text NOT NULL DEFAULT '',
  dev         boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

CREATE TABLE turns (
  turn_id      text PRIMARY KEY,
  workflow_id  text NOT NULL UNIQUE,
  tenant_id    text NOT NULL REFERENCES tenants(id),
  session_id   text NOT NULL,
  user_id      text,
  -- The user's message after input redaction (emails, phone and card numbers removed).
  message      text NOT NULL,
  answer       text NOT NULL,
  cache        text NOT NULL,
  intent       text NOT NULL,
  complexity   text NOT NULL,
  provider     text,
  model        text,
  usage        jsonb NOT NULL,
  cost_usd     double precision NOT NULL DEFAULT 0,
  timings      jsonb NOT NULL,
  fallbacks    jsonb NOT NULL DEFAULT '[]',
  result       jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
-- The sliding-window history read: one session's latest turns.
CREATE INDEX turns_session_idx ON turns (tenant_id, session_id, created_at DESC);

CREATE TABLE kb_documents (
  tenant_id   text NOT NULL REFERENCES tenants(id),
  slug        text NOT NULL,
  title       text NOT NULL,
  body        text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, slug)
);
