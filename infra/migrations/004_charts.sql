-- Rendered analytics charts, content-addressed: the id hashes the tenant, the spec, the rows and the
-- renderer version, so a stored chart never changes (it is served immutable) and is stored once.
CREATE TABLE charts (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants(id),
  -- The Vega-Lite spec without data (rows are injected by name), for clients that draw it themselves.
  spec        jsonb NOT NULL,
  svg         text NOT NULL,
  -- 2x PNG on white, for channels that cannot show SVG.
  png         bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX charts_tenant_idx ON charts (tenant_id);
