// Where stations race on PostgreSQL, the schema's rules hold because the triggers lock what they read: an insert
// that checks the case's status holds the case row (FOR SHARE) until it commits, so another station's status change
// waits for it instead of slipping between the check and the commit (SQLite's single writer gave this for free).
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { classifyPostgresError } from '../../../src/main/db/postgres/errors';
import { usePostgres } from './engines';

const setup = usePostgres();

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  setup.track(client);
  return client;
}

/** A case in review with one cell, on a fresh database; returns its ids. */
async function caseInReview(c: pg.Client): Promise<{ caseId: number; imageId: number }> {
  const one = async (sql: string, params: unknown[] = []) => Number((await c.query<{ id: string }>(`${sql} RETURNING id`, params)).rows[0]!.id);
  const patient = await one(`INSERT INTO patients (lab_id, created_at, updated_at) VALUES ('MRN-1', 't', 't')`);
  const model = await one(
    `INSERT INTO models (model_id, version, sha256, name, classes, class_count, registered_at) VALUES ('m', '1', $1, 'M', '["BLA","LYT"]', 2, 't')`,
    ['a'.repeat(64)],
  );
  const caseId = await one(`INSERT INTO cases (patient_id, accession, specimen, folder, created_at) VALUES ($1, 'BM-1', 'other', '/c', 't')`, [patient]);
  const imageId = await one(`INSERT INTO images (case_id, relative_path, sha256, bytes, created_at) VALUES ($1, 'a.jpg', $2, 1, 't')`, [
    caseId,
    'b'.repeat(64),
  ]);
  await c.query(`UPDATE cases SET status = 'analysing', model_id = $1 WHERE id = $2`, [model, caseId]);
  await c.query(`UPDATE cases SET status = 'in_review' WHERE id = $1`, [caseId]);
  return { caseId, imageId };
}

describe.skipIf(setup.unavailable !== null)('PostgreSQL: rules that hold between stations', () => {
  it('makes a status change wait for a review decision still being saved, and refuses it after when the rule says so', async () => {
    const url = await setup.freshUrl();
    const [reviewer, authoriser] = [await connect(url), await connect(url)];
    const { caseId, imageId } = await caseInReview(reviewer);

    await reviewer.query('BEGIN');
    await reviewer.query(`INSERT INTO reviews (case_id, image_id, kind, label, reviewer, created_at) VALUES ($1, $2, 'decision', 'LYT', 'tech', 't')`, [
      caseId,
      imageId,
    ]);
    // The other station cannot submit the case under the uncommitted decision: its update waits for the row lock.
    await authoriser.query(`SET lock_timeout = '300ms'`);
    const blocked = await authoriser.query(`UPDATE cases SET status = 'submitted' WHERE id = $1`, [caseId]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(classifyPostgresError(blocked)?.kind).toBe('locked');
    await reviewer.query('COMMIT');
    // Once the decision is committed the submission goes through, and a decision after it is refused.
    await authoriser.query(`UPDATE cases SET status = 'submitted' WHERE id = $1`, [caseId]);
    const late = await reviewer
      .query(`INSERT INTO reviews (case_id, image_id, kind, label, reviewer, created_at) VALUES ($1, $2, 'decision', 'BLA', 'tech', 't')`, [caseId, imageId])
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(classifyPostgresError(late)?.kind).toBe('constraint');
    expect(String(late)).toMatch(/is submitted; a cell's label changes only while the case is in review or cancelled/);
  });

  it('lets two stations record decisions on one case at the same time (shared locks do not block each other)', async () => {
    const url = await setup.freshUrl();
    const [a, b] = [await connect(url), await connect(url)];
    const { caseId, imageId } = await caseInReview(a);
    const second = Number(
      (
        await a.query<{ id: string }>(`INSERT INTO images (case_id, relative_path, sha256, bytes, created_at) VALUES ($1, 'b.jpg', $2, 1, 't') RETURNING id`, [
          caseId,
          'c'.repeat(64),
        ])
      ).rows[0]!.id,
    );
    await b.query(`SET lock_timeout = '300ms'`);
    await a.query('BEGIN');
    await b.query('BEGIN');
    await a.query(`INSERT INTO reviews (case_id, image_id, kind, label, reviewer, created_at) VALUES ($1, $2, 'decision', 'LYT', 'ana', 't')`, [
      caseId,
      imageId,
    ]);
    await b.query(`INSERT INTO reviews (case_id, image_id, kind, label, reviewer, created_at) VALUES ($1, $2, 'decision', 'BLA', 'bo', 't')`, [caseId, second]);
    await a.query('COMMIT');
    await b.query('COMMIT');
    const { rows } = await a.query<{ n: string }>('SELECT count(*) AS n FROM current_decisions WHERE case_id = $1', [caseId]);
    expect(Number(rows[0]!.n)).toBe(2);
  });
});
