-- Example question -> SQL pairs the SQL agent retrieves by similarity to show the model how this schema
-- is queried. Product-level (written for the demo schema, no tenant data), one row per example and embedder.
CREATE TABLE sql_examples (
  id         serial PRIMARY KEY,
  question   text NOT NULL,
  sql        text NOT NULL,
  embedder   text NOT NULL,
  embedding  vector(256) NOT NULL,
  UNIQUE (question, embedder)
);
CREATE INDEX sql_examples_embedding_idx ON sql_examples USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);
