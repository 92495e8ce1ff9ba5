-- Feedback that teaches: a tenant's thumbs-up (or corrected SQL) on an analytics answer becomes one of
-- its SQL examples, seen by its own SQL agent only.

-- The example store becomes tenant-aware: tenant_id NULL is a built-in example (written by hand, shared by
-- every tenant); a tenant's row is one of its own, made from feedback on `turn_id`, and no other tenant
-- ever reads it.
ALTER TABLE sql_examples ADD COLUMN tenant_id text REFERENCES tenants(id);
ALTER TABLE sql_examples ADD COLUMN turn_id text;
ALTER TABLE sql_examples ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE sql_examples DROP CONSTRAINT sql_examples_question_embedder_key;
-- One built-in example per question and embedder; one example of a tenant per question and embedder (a
-- later approved answer to the same question replaces the earlier one).
CREATE UNIQUE INDEX sql_examples_builtin_key ON sql_examples (question, embedder) WHERE tenant_id IS NULL;
CREATE UNIQUE INDEX sql_examples_tenant_key ON sql_examples (tenant_id, question, embedder) WHERE tenant_id IS NOT NULL;
-- The nearest examples are ranked exactly over the built-ins and the tenant's own rows (found by this
-- index), not through an approximate index over every tenant's rows: a filtered HNSW scan returns its 40
-- nearest candidates of any tenant before filtering, so a tenant's own example could be missed.
DROP INDEX sql_examples_embedding_idx;
CREATE INDEX sql_examples_tenant_idx ON sql_examples (tenant_id, embedder);

-- The query the SQL agent ran for a turn, and the slot signature it answered: feedback on the turn takes
-- the query whose signature is the turn's final one (a speculative query for another reading is not it).
CREATE TABLE turn_queries (
  workflow_id  text NOT NULL,
  signature    text NOT NULL,
  tenant_id    text NOT NULL REFERENCES tenants(id),
  sql          text NOT NULL,
  -- The semantic layer compiled it from the slots (no model wrote it).
  compiled     boolean NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workflow_id, signature)
);

-- One feedback per turn: a second post replaces the first.
CREATE TABLE turn_feedback (
  tenant_id      text NOT NULL REFERENCES tenants(id),
  turn_id        text NOT NULL,
  rating         text NOT NULL CHECK (rating IN ('up', 'down')),
  -- After input redaction (e-mail addresses, phone and card numbers removed), like turns.message.
  comment        text,
  -- The user's query as validated and stored (with its LIMIT), when they sent one.
  corrected_sql  text,
  -- What the feedback did to the example store: added, updated, removed, none, not_analytics.
  example        text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, turn_id)
);
-- GET /v1/stats counts the feedback given within its window.
CREATE INDEX turn_feedback_updated_idx ON turn_feedback (updated_at DESC);
