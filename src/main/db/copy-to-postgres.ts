// `marrowcount db copy`: moves a station's SQLite database onto a lab's PostgreSQL server (issue 22), whole and
// verified, or not at all.
//
// - The source is opened read-only with the usual checks (integrity, a newer or foreign history refused) and read
//   inside one read transaction, so a station still running sees nothing change and the copy is one snapshot.
// - The target is opened (and migrated, if new) by openPostgresDatabase; both must be at the same schema version.
// - The table list comes from the two schemas themselves, never from a hand-kept list: a table or column present on
//   one engine and not on the other stops the copy before anything is written, so a new migration whose twin forgot
//   a table cannot be skipped silently.
// - Everything happens in ONE PostgreSQL transaction: the tables are locked (ALTER TABLE ... DISABLE TRIGGER USER
//   takes an exclusive lock, so no station writes meanwhile), a table that already holds a row refuses the copy, the
//   rows go in foreign-key order with their ids, with the user triggers off: the derived tables (current_decisions,
//   prediction_counts) and the frozen signed cases are copied as they are, not replayed through rules that would
//   refuse a signed case's rows or count them twice. The foreign keys stay on (they are not user triggers).
// - Before COMMIT every table is read back: row count and a SHA-256 over its rows in key order, computed by the
//   same function over both engines' rows (text is byte-identical by design, numbers are the same doubles, blobs the
//   same bytes). Any difference rolls everything back and names the table. Then the triggers go back on and each
//   identity continues after the copied ids (setval).
// Tables the migrations seed (the class codes) are not copied but compared. schema_migrations is the target's own.
import { createHash, type Hash } from 'node:crypto';
import type pg from 'pg';
import { closeDatabase, openDatabase, type MarrowDatabase } from './connection';
import { closePostgresDatabase, isPostgresUrl, openPostgresDatabase, type PostgresDatabase, type PostgresOpenOptions } from './postgres/connection';
import { classifyPostgresError } from './postgres/errors';

export type CopyRefusalReason = 'bad_target' | 'schema_mismatch' | 'target_not_empty' | 'verification_failed';

/** A copy that was refused or undone; nothing was written to the target. `table` names the table concerned. */
export class DatabaseCopyError extends Error {
  readonly reason: CopyRefusalReason;
  readonly table: string | null;
  constructor(reason: CopyRefusalReason, message: string, table: string | null = null) {
    super(message);
    this.name = 'DatabaseCopyError';
    this.reason = reason;
    this.table = table;
  }
}

export interface CopiedTable {
  table: string;
  rows: number;
  /** SHA-256 of the table's rows in key order (rowsDigest), the same on both engines. */
  sha256: string;
  /** 'copied', or 'compared' for a table the migrations seed on both sides. */
  action: 'copied' | 'compared';
}

export interface CopyResult {
  from: string;
  /** The target URL without its password. */
  to: string;
  schemaVersion: number;
  tables: CopiedTable[];
  /** Rows copied (compared tables not counted). */
  rows: number;
  seconds: number;
}

export interface CopyProgress {
  table: string;
  /** 1-based position of the table in the copy order, and how many tables are copied. */
  tableIndex: number;
  tableCount: number;
  copied: number;
  total: number;
}

export interface CopyOptions {
  /** Rows per INSERT statement (unnest of arrays, the fastest form measured in db/README.md). Default 5,000. */
  batchRows?: number;
  onProgress?: (progress: CopyProgress) => void;
  /** For tests: how the target is opened (e.g. upTo, to make a target at another schema version). */
  targetOptions?: Pick<PostgresOpenOptions, 'upTo' | 'migrations'>;
  /** For tests of the verification: runs on the copy's connection after the rows are in, before they are read back. */
  beforeVerify?: (client: pg.PoolClient) => Promise<void>;
}

export interface TableShape {
  name: string;
  /** In the SQLite table's order; the same names must exist on PostgreSQL. */
  columns: string[];
  /** Primary-key columns in key order: the order rows are read, inserted and hashed in. */
  key: string[];
  /** Tables this one references (foreign keys), itself excluded. */
  references: string[];
}

/** The history table is each database's own: compared by version, never copied. */
const HISTORY_TABLE = 'schema_migrations';

const quote = (identifier: string): string => `"${identifier.replace(/"/g, '""')}"`;

/**
 * The tables in an order where every table comes after the tables it references (self-references aside, which
 * id order satisfies: a row only refers to an earlier row of its own table). Alphabetical among equals, so the
 * order is stable. A cycle is a schema this copy cannot handle, and says so.
 */
export function foreignKeyOrder(tables: readonly TableShape[]): string[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const done = new Set<string>();
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (name: string, path: string[]): void => {
    if (done.has(name)) return;
    if (visiting.has(name)) throw new Error(`The schema's foreign keys form a cycle (${[...path, name].join(' -> ')}); db copy cannot order them.`);
    const table = byName.get(name);
    if (table === undefined) throw new Error(`Table ${path[path.length - 1]} references ${name}, which is not in the schema.`);
    visiting.add(name);
    for (const ref of [...table.references].sort()) visit(ref, [...path, name]);
    visiting.delete(name);
    done.add(name);
    order.push(name);
  };
  for (const name of [...byName.keys()].sort()) visit(name, []);
  return order;
}

/** One value as the digest sees it: the same for SQLite's and PostgreSQL's driver output of the same stored value. */
function canonicalValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  // A driver that gives 64-bit integers as BigInt must hash like one that gives numbers.
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : { bigint: value.toString() };
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return { bytes: Buffer.from(value).toString('hex') };
  return value;
}

/** Adds one row (values in the table's column order) to a table digest. */
export function addRowToDigest(hash: Hash, row: readonly unknown[]): void {
  hash.update(JSON.stringify(row.map(canonicalValue)));
  hash.update('\n');
}

/** The SHA-256 of rows in the order given (for tests and the verification). */
export function rowsDigest(rows: Iterable<readonly unknown[]>): string {
  const hash = createHash('sha256');
  for (const row of rows) addRowToDigest(hash, row);
  return hash.digest('hex');
}

function sqliteShapes(db: MarrowDatabase): TableShape[] {
  const names = (db.raw.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as { name: string }[])
    .map((r) => r.name)
    .filter((n) => n !== HISTORY_TABLE);
  return names.map((name) => {
    const columns = db.raw.prepare('SELECT name, pk FROM pragma_table_info(?) ORDER BY cid').all(name) as { name: string; pk: number }[];
    const key = columns
      .filter((c) => c.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((c) => c.name);
    if (key.length === 0) throw new Error(`Table ${name} has no primary key; db copy needs one to read and compare its rows in a fixed order.`);
    const references = (db.raw.prepare('SELECT DISTINCT "table" AS t FROM pragma_foreign_key_list(?)').all(name) as { t: string }[])
      .map((r) => r.t)
      .filter((t) => t !== name);
    return { name, columns: columns.map((c) => c.name), key, references };
  });
}

interface PgColumn {
  table: string;
  column: string;
  type: string;
  identity: boolean;
}

async function postgresColumns(client: pg.PoolClient): Promise<PgColumn[]> {
  const { rows } = await client.query<PgColumn>(
    `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type, a.attidentity <> '' AS identity
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY c.relname, a.attnum`,
  );
  return rows;
}

/** Refuses two schemas that do not hold the same tables and columns, naming every difference. */
export function compareSchemas(sqlite: readonly TableShape[], postgres: readonly PgColumn[]): void {
  const pgTables = new Map<string, Set<string>>();
  for (const c of postgres) {
    if (c.table === HISTORY_TABLE) continue;
    if (!pgTables.has(c.table)) pgTables.set(c.table, new Set());
    pgTables.get(c.table)!.add(c.column);
  }
  const problems: string[] = [];
  for (const table of sqlite) {
    const columns = pgTables.get(table.name);
    if (columns === undefined) {
      problems.push(`table ${table.name} is missing on PostgreSQL`);
      continue;
    }
    const missing = table.columns.filter((c) => !columns.has(c));
    const extra = [...columns].filter((c) => !table.columns.includes(c));
    if (missing.length > 0) problems.push(`${table.name}: column(s) ${missing.join(', ')} missing on PostgreSQL`);
    if (extra.length > 0) problems.push(`${table.name}: column(s) ${extra.join(', ')} missing on SQLite`);
  }
  for (const name of pgTables.keys()) if (!sqlite.some((t) => t.name === name)) problems.push(`table ${name} is missing on SQLite`);
  if (problems.length > 0) {
    throw new DatabaseCopyError(
      'schema_mismatch',
      `The two databases' schemas differ although both are at the same version (${problems.join('; ')}). A migration's PostgreSQL twin is incomplete; nothing was copied.`,
      problems.length === 1 ? (/^(?:table )?(\w+)/.exec(problems[0]!)?.[1] ?? null) : null,
    );
  }
}

/** The tables the migrations fill (the class codes): found by migrating an empty in-memory database, not listed. */
function seededTables(): Set<string> {
  const fresh = openDatabase(':memory:');
  try {
    const names = (fresh.raw.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as { name: string }[]).map(
      (r) => r.name,
    );
    return new Set(names.filter((n) => n !== HISTORY_TABLE && fresh.raw.prepare(`SELECT 1 FROM ${quote(n)} LIMIT 1`).get() !== undefined));
  } finally {
    closeDatabase(fresh);
  }
}

/** Keyset paging in key order: `WHERE (k1, k2) > (…) ORDER BY k1, k2 LIMIT n`. PostgreSQL compares text in C order, as SQLite does. */
function pageSql(table: TableShape, engine: 'sqlite' | 'postgres', textKeys: ReadonlySet<string>, limit: number, after: boolean): string {
  const key = table.key.map((k) => (engine === 'postgres' && textKeys.has(k) ? `${quote(k)} COLLATE "C"` : quote(k)));
  const params = table.key.map((_, i) => (engine === 'postgres' ? `$${i + 1}` : '?'));
  const where = after ? ` WHERE (${key.join(', ')}) > (${params.join(', ')})` : '';
  return `SELECT ${table.columns.map(quote).join(', ')} FROM ${quote(table.name)}${where} ORDER BY ${key.join(', ')} LIMIT ${limit}`;
}

function keyOf(table: TableShape, row: Record<string, unknown>): unknown[] {
  return table.key.map((k) => row[k]);
}

function* sqliteRows(db: MarrowDatabase, table: TableShape, pageRows: number): Generator<Record<string, unknown>[]> {
  const first = db.raw.prepare(pageSql(table, 'sqlite', new Set(), pageRows, false));
  const next = db.raw.prepare(pageSql(table, 'sqlite', new Set(), pageRows, true));
  let page = first.all() as Record<string, unknown>[];
  while (page.length > 0) {
    yield page;
    if (page.length < pageRows) return;
    page = next.all(...keyOf(table, page[page.length - 1]!)) as Record<string, unknown>[];
  }
}

async function postgresDigest(
  client: pg.PoolClient,
  table: TableShape,
  textKeys: ReadonlySet<string>,
  pageRows: number,
): Promise<{ rows: number; sha256: string }> {
  const hash = createHash('sha256');
  let rows = 0;
  let last: unknown[] | null = null;
  for (;;) {
    const sql = pageSql(table, 'postgres', textKeys, pageRows, last !== null);
    const page: Record<string, unknown>[] = (await client.query(sql, last ?? [])).rows;
    for (const row of page)
      addRowToDigest(
        hash,
        table.columns.map((c) => row[c]),
      );
    rows += page.length;
    if (page.length < pageRows) return { rows, sha256: hash.digest('hex') };
    last = keyOf(table, page[page.length - 1]!);
  }
}

function sqliteDigest(db: MarrowDatabase, table: TableShape, pageRows: number): { rows: number; sha256: string } {
  const hash = createHash('sha256');
  let rows = 0;
  for (const page of sqliteRows(db, table, pageRows)) {
    for (const row of page)
      addRowToDigest(
        hash,
        table.columns.map((c) => row[c]),
      );
    rows += page.length;
  }
  return { rows, sha256: hash.digest('hex') };
}

/** Copies the SQLite database at fromPath into the empty (or new) PostgreSQL database at toUrl. */
export async function copySqliteToPostgres(fromPath: string, toUrl: string, options: CopyOptions = {}): Promise<CopyResult> {
  if (!isPostgresUrl(toUrl)) {
    throw new DatabaseCopyError('bad_target', `--to must be a PostgreSQL URL (postgres://user@host:port/database), not "${toUrl.slice(0, 80)}".`);
  }
  if (isPostgresUrl(fromPath))
    throw new DatabaseCopyError('bad_target', 'db copy reads a SQLite file (--from) and writes PostgreSQL (--to); --from is a PostgreSQL URL.');
  const batchRows = options.batchRows ?? 5000;
  const started = performance.now();
  const source = openDatabase(fromPath, { readonly: true });
  let target: PostgresDatabase | null = null;
  try {
    target = await openPostgresDatabase(toUrl, { maxConnections: 2, ...options.targetOptions });
    if (source.schemaVersion !== target.schemaVersion) {
      throw new DatabaseCopyError(
        'schema_mismatch',
        `${fromPath} is at schema version ${source.schemaVersion} and ${target.where} at ${target.schemaVersion}; both must be at the same ` +
          'version (open the SQLite file once with this MarrowCount to upgrade it). Nothing was copied.',
      );
    }
    const tables = await copyInOneTransaction(source, target, fromPath, batchRows, options);
    return {
      from: fromPath,
      to: target.where,
      schemaVersion: target.schemaVersion,
      tables,
      rows: tables.filter((t) => t.action === 'copied').reduce((n, t) => n + t.rows, 0),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    closeDatabase(source);
    if (target !== null) await closePostgresDatabase(target);
  }
}

async function copyInOneTransaction(
  source: MarrowDatabase,
  target: PostgresDatabase,
  fromPath: string,
  batchRows: number,
  { onProgress, beforeVerify }: CopyOptions,
): Promise<CopiedTable[]> {
  const shapes = sqliteShapes(source);
  const seeded = seededTables();
  const client = await target.pool.connect();
  let broken: Error | undefined;
  // One read snapshot of the source for the whole copy and its verification (WAL: a running station is not blocked).
  source.raw.exec('BEGIN');
  try {
    await client.query('BEGIN');
    const pgColumns = await postgresColumns(client);
    compareSchemas(shapes, pgColumns);
    const pgType = new Map(pgColumns.map((c) => [`${c.table}.${c.column}`, c.type]));
    const shapeOf = new Map(shapes.map((s) => [s.name, s]));
    const order = foreignKeyOrder(shapes);
    const copied = order.filter((t) => !seeded.has(t));
    const textKeys = (t: TableShape): Set<string> => new Set(t.key.filter((k) => pgType.get(`${t.name}.${k}`) === 'text'));

    // Locks every table against the other stations until COMMIT, and keeps the rules from replaying the history.
    for (const name of copied) await client.query(`ALTER TABLE ${quote(name)} DISABLE TRIGGER USER`);
    for (const name of copied) {
      const { rows } = await client.query<{ n: number }>(`SELECT count(*) AS n FROM ${quote(name)}`);
      if (rows[0]!.n > 0) {
        throw new DatabaseCopyError(
          'target_not_empty',
          `${target.where} is not empty: table ${name} has ${rows[0]!.n} row(s). db copy only fills an empty database; nothing was copied.`,
          name,
        );
      }
    }

    const results: CopiedTable[] = [];
    for (const [index, name] of copied.entries()) {
      const table = shapeOf.get(name)!;
      const total = (source.raw.prepare(`SELECT count(*) AS n FROM ${quote(name)}`).get() as { n: number }).n;
      const columnList = table.columns.map(quote).join(', ');
      const arrays = table.columns.map((c, i) => `$${i + 1}::${pgType.get(`${name}.${c}`)}[]`).join(', ');
      const insert = `INSERT INTO ${quote(name)} (${columnList}) SELECT * FROM unnest(${arrays})`;
      const hash = createHash('sha256');
      let done = 0;
      onProgress?.({ table: name, tableIndex: index + 1, tableCount: copied.length, copied: 0, total });
      for (const page of sqliteRows(source, table, batchRows)) {
        const columns: unknown[][] = table.columns.map(() => new Array<unknown>(page.length));
        page.forEach((row, r) => {
          const values = table.columns.map((c) => row[c]);
          addRowToDigest(hash, values);
          values.forEach((v, c) => {
            columns[c]![r] = v;
          });
        });
        await client.query(insert, columns);
        done += page.length;
        onProgress?.({ table: name, tableIndex: index + 1, tableCount: copied.length, copied: done, total });
      }
      results.push({ table: name, rows: done, sha256: hash.digest('hex'), action: 'copied' });
    }

    await beforeVerify?.(client);
    // Verification: every table read back from the target inside the transaction, compared with the source.
    for (const name of [...seeded].sort()) {
      const s = sqliteDigest(source, shapeOf.get(name)!, batchRows);
      results.push({ table: name, rows: s.rows, sha256: s.sha256, action: 'compared' });
    }
    for (const result of results) {
      const table = shapeOf.get(result.table)!;
      const written = await postgresDigest(client, table, textKeys(table), batchRows);
      if (written.rows !== result.rows || written.sha256 !== result.sha256) {
        throw new DatabaseCopyError(
          'verification_failed',
          `Table ${result.table} differs after the copy (${fromPath}: ${result.rows} rows, SHA-256 ${result.sha256.slice(0, 16)}…; ` +
            `${target.where}: ${written.rows} rows, SHA-256 ${written.sha256.slice(0, 16)}…). Everything was rolled back.`,
          result.table,
        );
      }
    }

    for (const name of copied) await client.query(`ALTER TABLE ${quote(name)} ENABLE TRIGGER USER`);
    // New rows on the target continue after the copied ids.
    for (const c of pgColumns.filter((col) => col.identity && copied.includes(col.table))) {
      await client.query(`SELECT setval(pg_get_serial_sequence($1, $2), (SELECT coalesce(max(${quote(c.column)}), 0) + 1 FROM ${quote(c.table)}), false)`, [
        quote(c.table),
        c.column,
      ]);
    }
    await client.query('COMMIT');
    return results.sort((a, b) => order.indexOf(a.table) - order.indexOf(b.table));
  } catch (e) {
    broken = await client.query('ROLLBACK').then(
      () => undefined,
      (rollbackError: unknown) => (rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError))),
    );
    if (e instanceof DatabaseCopyError) throw e;
    throw classifyPostgresError(e, `Copying ${fromPath} to ${target.where}`) ?? e;
  } finally {
    client.release(broken);
    if (source.raw.inTransaction) source.raw.exec('COMMIT');
  }
}
