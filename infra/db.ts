/** A quoted SQL identifier (schema, table, role name), safe whatever it contains. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The one thing most code needs of a Postgres pool; a `pg.Pool` is one, and a test fake is a few lines. */
export interface Queryable {
  query<R extends Record<string, any> = any>(sql: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}
