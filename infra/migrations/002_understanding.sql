-- Tenant settings and cache generations, user profiles, and the semantic cache (pgvector, HNSW, cosine).

-- Settings are stored as JSON merged over the product's defaults (activities/tenant/settings.ts).
-- cache_generation is part of every cache key: bumping it retires all of a tenant's cached answers.
ALTER TABLE tenants
  ADD COLUMN settings jsonb NOT NULL DEFAULT '{}',
  ADD COLUMN cache_generation integer NOT NULL DEFAULT 1,
  -- Hash of the tenant's analytics schema as last seen; a different one bumps the generation.
  ADD COLUMN schema_hash text;

-- Any change to a tenant's documents retires its cached answers (whoever makes the change).
CREATE FUNCTION bump_cache_generation() RETURNS trigger AS $$
BEGIN
  UPDATE tenants SET cache_generation = cache_generation + 1
   WHERE id = COALESCE(NEW.tenant_id, OLD.tenant_id);
  RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER kb_documents_bump_generation
  AFTER INSERT OR UPDATE OR DELETE ON kb_documents
  FOR EACH ROW EXECUTE FUNCTION bump_cache_generation();

CREATE TABLE user_profiles (
  tenant_id     text NOT NULL REFERENCES tenants(id),
  user_id       text NOT NULL,
  display_name  text,
  locale        text,
  -- Free-form preferences the assistant may use (currency, preferred channel, …).
  preferences   jsonb NOT NULL DEFAULT '{}',
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id)
);

-- 256 dimensions: the local embedder's size, and what OpenAI's text-embedding-3 models return with `dimensions: 256`.
CREATE TABLE semantic_cache (
  id           bigserial PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants(id),
  generation   integer NOT NULL,
  -- Vectors of different embedders are not comparable: a lookup only reads its own model's rows.
  embedder     text NOT NULL,
  embedding    vector(256) NOT NULL,
  -- The slot signature: a hit needs an equal one, whatever the similarity.
  signature    text NOT NULL,
  intent       text NOT NULL,
  -- The question after input redaction, offered back as "did you mean …?".
  question     text NOT NULL,
  answer       jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL
);
CREATE INDEX semantic_cache_embedding_idx ON semantic_cache USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);
CREATE INDEX semantic_cache_tenant_idx ON semantic_cache (tenant_id, generation, expires_at);

-- What a follow-up inherits: the session's latest understood slots.
ALTER TABLE turns ADD COLUMN slots jsonb NOT NULL DEFAULT '{}';
