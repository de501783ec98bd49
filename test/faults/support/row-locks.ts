import { Client } from 'pg';
import { waitFor } from '../../support/wait';

/**
 * Row locks the test holds in PostgreSQL, each in a transaction of its own connection: a
 * worker whose next write needs the row waits there, so a stage that talks to nobody but
 * PostgreSQL (an upgrade changing the job, a tick recording its outcome) can be held like a
 * Flink request is held. `waiters()` says who waits, so a test sees the stage reached.
 */
export class RowLock {
  /** Every lock not yet released: a failed test leaves none behind (releaseAll in an afterEach). */
  private static readonly open = new Set<RowLock>();
  private released = false;

  static async releaseAll(): Promise<void> {
    await Promise.all([...RowLock.open].map((l) => l.release().catch(() => undefined)));
  }

  private constructor(
    readonly what: string,
    private readonly client: Client,
    readonly pid: number,
  ) {}

  /** Runs `sql` (a SELECT … FOR UPDATE / FOR NO KEY UPDATE) in a transaction left open; fails if it locked no row. */
  static async take(databaseUrl: string, what: string, sql: string, params: unknown[]): Promise<RowLock> {
    const client = new Client({ connectionString: databaseUrl });
    // The run's database is dropped WITH (FORCE) at the end: a lock a failed test left is cut then.
    client.on('error', () => undefined);
    await client.connect();
    try {
      const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid as number;
      await client.query('BEGIN');
      const locked = await client.query(sql, params);
      if (locked.rowCount === 0) throw new Error(`no row to lock for ${what}`);
      const lock = new RowLock(what, client, pid);
      RowLock.open.add(lock);
      return lock;
    } catch (error) {
      await client.end();
      throw error;
    }
  }

  /** The statements other backends are blocked in by this lock, queued behind another waiter too. */
  async waiters(): Promise<string[]> {
    // Inside a transaction pg_stat_activity is read once and kept: read it afresh.
    await this.client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await this.client.query<{ query: string }>(
      `WITH RECURSIVE blocked(pid, query) AS (
         SELECT pid, query FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))
         UNION
         SELECT a.pid, a.query FROM pg_stat_activity a JOIN blocked b ON b.pid = ANY(pg_blocking_pids(a.pid)))
       SELECT query FROM blocked`,
      [this.pid],
    );
    return rows.map((r) => r.query);
  }

  /** Waits until a backend is blocked on this lock in a statement matching `statement` (the stage is reached). */
  async waitForWaiter(statement: RegExp, label: string, timeoutMs = 60_000): Promise<void> {
    let seen: string[] = [];
    try {
      await waitFor(
        `${label}: a worker blocked on ${this.what} in ${statement}`,
        async () => (seen = await this.waiters()).some((q) => statement.test(q)),
        timeoutMs,
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}; blocked on it: ${JSON.stringify(seen)}`, { cause: error });
    }
  }

  /** Ends the transaction: the waiters go on. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    RowLock.open.delete(this);
    try {
      await this.client.query('ROLLBACK');
    } finally {
      await this.client.end();
    }
  }
}

/**
 * Ends every backend of the database still blocked on a lock. Called after the workers were
 * killed: their connections would otherwise carry the statement they were blocked in to
 * completion once the lock goes, and the stage the test checked would not be where the
 * dead worker stopped. (A killed process's statement may or may not commit; the tests that
 * want "it did" hold the stage after it instead.)
 */
export async function terminateBlockedBackends(databaseUrl: string, spare: readonly RowLock[]): Promise<number> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ ended: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity
        WHERE datname = current_database() AND cardinality(pg_blocking_pids(pid)) > 0 AND pid <> ALL($1::int[])`,
      [spare.map((l) => l.pid)],
    );
    return rows.filter((r) => r.ended).length;
  } finally {
    await client.end();
  }
}
