import http from 'node:http';
import type express from 'express';

/** Starts the HTTP server; `close` stops accepting and ends open SSE streams. */
export async function listen(app: express.Express, port: number, host: string): Promise<{ server: http.Server; port: number; close(): Promise<void> }> {
  const server = http.createServer({ noDelay: true, keepAliveTimeout: 65_000 }, app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as import('node:net').AddressInfo).port;
  return {
    server,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
