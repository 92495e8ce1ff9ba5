// One PGlite session serves many client connections (pglite-socket multiplexes them). pglite-socket's own
// queue interleaves the connections message by message, keeping only explicit transactions together; but
// the extended query protocol (what `pg` sends for every parameterised query: Parse, Bind, Describe,
// Execute, Sync) lives in the session too: another connection's Parse between this one's Parse and Bind
// replaces the unnamed statement, and the Bind then fails ("bind message supplies 1 parameters, but
// prepared statement "" requires 4", seen under load) or, with an equal parameter count, runs the
// other connection's query and returns its rows to this one. This queue keeps each connection's exchange
// whole: once a connection starts one, only its messages run until its Sync (or its transaction ends).
import type { PGlite } from '@electric-sql/pglite';

/** Messages that end an exchange: Sync ends an extended-protocol one, a simple Query is one by itself. */
const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'

interface Pending {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (err: unknown) => void;
}

/** A drop-in for pglite-socket's query queue (same methods), serialising whole protocol exchanges. */
export class ProtocolExchangeQueue {
  private readonly queue: Pending[] = [];
  private processing = false;
  /** The connection whose exchange (or transaction) is open: nobody else runs until it ends. */
  private owner: number | null = null;

  constructor(private readonly db: Pick<PGlite, 'runExclusive' | 'execProtocolRawStream' | 'isInTransaction' | 'exec'>) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.process();
    });
  }

  private async process(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        const at = this.owner === null ? 0 : this.queue.findIndex((p) => p.handlerId === this.owner);
        if (at === -1) break; // the owner's next message has not arrived yet
        const item = this.queue.splice(at, 1)[0]!;
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(item.message, {
              onRawData: (data: Uint8Array) => {
                bytes += data.length;
                item.onData(data);
              },
            }),
          );
        } catch (err) {
          this.owner = null;
          item.reject(err);
          continue;
        }
        const type = item.message[0];
        const ended = type === SYNC || type === QUERY;
        this.owner = ended && !this.db.isInTransaction() ? null : item.handlerId;
        item.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  /** A connection went away: its queued messages fail, and its open exchange no longer blocks the others. */
  clearQueueForHandler(handlerId: number): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i]!.handlerId === handlerId) this.queue.splice(i, 1)[0]!.reject(new Error('Handler disconnected'));
    }
  }

  /** …and a transaction it left open is rolled back. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK').catch(() => {});
    this.owner = null;
    void this.process();
  }
}
