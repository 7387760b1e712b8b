// The README's backup procedure for a PostgreSQL lab database, done for real: a case analysed on PostgreSQL (the
// CLI, as a lab would script it), `pg_dump --format=custom` while the database is open, `pg_restore` into an empty
// database, and the restored one gives the same differential, holds the same rows in every table, and still enforces
// the rules (its triggers came back with the schema).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/main/cli';
import { findPostgres } from '../../helpers/pg-cluster';
import { GOOD_CROPS, TINY_MODEL } from '../service/helpers';
import { usePostgres } from './engines';

const setup = usePostgres();
const root = mkdtempSync(join(tmpdir(), 'marrowcount-pg-backup-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function analyze(folder: string, url: string): Promise<{ case: { id: number }; differential: unknown; review: unknown }> {
  const stdout = new Collect();
  const stderr = new Collect();
  const code = await runCli(['analyze', folder, '--db', url, '--model', TINY_MODEL, '--case', 'BK-1', '--patient', 'MRN-B', '--json'], {
    stdout,
    stderr,
    env: {},
    onInterrupt: () => () => undefined,
  });
  expect(code, stderr.text).toBe(0);
  return JSON.parse(stdout.text) as { case: { id: number }; differential: unknown; review: unknown };
}

/** Row count and a digest of every row (as PostgreSQL prints it) of each table of the application's schema. */
async function tableDigests(url: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = (await client.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).rows;
    const digests: Record<string, string> = {};
    for (const { name } of tables) {
      const { rows } = await client.query<{ n: number; digest: string | null }>(
        `SELECT count(*)::int AS n, md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS digest FROM "${name}" AS t`,
      );
      digests[name] = `${rows[0]!.n} ${rows[0]!.digest ?? '-'}`;
    }
    return digests;
  } finally {
    await client.end();
  }
}

function run(binary: string, args: string[]): void {
  const found = findPostgres();
  if ('reason' in found) throw new Error(found.reason);
  const result = spawnSync(join(found.binDir, binary), args, { encoding: 'utf8', timeout: 120_000 });
  expect(result.status, `${binary}: ${result.stderr}`).toBe(0);
}

describe.skipIf(setup.unavailable !== null)('backing up a PostgreSQL lab database with pg_dump and restoring it', () => {
  it('restores the same differential, the same rows in every table, and the same rules', async () => {
    const source = await setup.freshUrl();
    const folder = join(root, 'case');
    cpSync(GOOD_CROPS, folder, { recursive: true });
    const analysed = await analyze(folder, source);

    const dump = join(root, 'marrowcount.dump');
    run('pg_dump', ['--format=custom', `--file=${dump}`, source]);
    const admin = new pg.Client({ connectionString: setup.cluster().url() });
    await admin.connect();
    try {
      await admin.query('CREATE DATABASE restored');
    } finally {
      await admin.end();
    }
    const restored = setup.cluster().url('restored');
    run('pg_restore', ['--no-owner', `--dbname=${restored}`, dump]);

    expect(await tableDigests(restored)).toEqual(await tableDigests(source));
    // The same case, opened on the restored database: found as it was (nothing classified again), the same counts.
    const again = await analyze(folder, restored);
    expect(again.case.id).toBe(analysed.case.id);
    expect(again.differential).toEqual(analysed.differential);
    expect(again.review).toEqual(analysed.review);

    // The rules came back with the schema: a stored prediction is still never overwritten.
    const client = new pg.Client({ connectionString: restored });
    await client.connect();
    try {
      const refused = await client.query(`UPDATE predictions SET predicted_class = predicted_class`).then(
        () => null,
        (e: unknown) => e,
      );
      expect(String(refused)).toMatch(/\[immutable\]/);
    } finally {
      await client.end();
    }
  }, 180_000);
});
