-- Knowledge retrieval: each tenant's documents in chunks, embedded (pgvector HNSW, cosine) and indexed
-- for full text, so retrieval can fuse both rankings.
CREATE TABLE kb_chunks (
  id          bigserial PRIMARY KEY,
  tenant_id   text NOT NULL,
  slug        text NOT NULL,
  ordinal     integer NOT NULL,
  title       text NOT NULL,
  body        text NOT NULL,
  -- Vectors of different embedders are not comparable: retrieval reads only its own embedder's rows.
  embedder    text NOT NULL,
  embedding   vector(256) NOT NULL,
  tsv         tsvector GENERATED ALWAYS AS (to_tsvector('english', title || ' ' || body)) STORED,
  indexed_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, slug, ordinal),
  FOREIGN KEY (tenant_id, slug) REFERENCES kb_documents (tenant_id, slug) ON DELETE CASCADE
);
CREATE INDEX kb_chunks_embedding_idx ON kb_chunks USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);
CREATE INDEX kb_chunks_tsv_idx ON kb_chunks USING gin (tsv);
