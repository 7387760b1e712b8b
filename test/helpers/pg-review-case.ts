// A case in review on a PostgreSQL database, written in raw SQL as fast as the schema allows (arrays through unnest),
// for the concurrency test and the review latency benchmark, which need many cells and only the review side of the
// repositories: a patient, a 4-class model, a case, n cells with a prediction each (predicted class by turn), the case
// moved importing → analysing → in_review through the triggers' own checks. Every row passes the same triggers and
// constraints as the repositories' writes.
import type pg from 'pg';

export const REVIEW_CASE_CLASSES = ['BLA', 'LYT', 'NGS', 'EBO'] as const;

export interface ReviewCase {
  caseId: number;
  modelRowId: number;
  /** In import order; cell i is predicted REVIEW_CASE_CLASSES[i % 4] with confidence 0.3 (flagged) or 0.9. */
  imageIds: number[];
}

const hex = (n: number) => n.toString(16).padStart(64, '0');

export async function seedReviewCase(pool: pg.Pool, cells: number, accession = 'BM-RACE'): Promise<ReviewCase> {
  const at = new Date().toISOString();
  const one = async (text: string, values: unknown[]) => Number((await pool.query<{ id: string | number }>(text, values)).rows[0]!.id);
  const patientId = await one(`INSERT INTO patients (lab_id, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id`, [`MRN-${accession}`, at]);
  // One model for every case seeded on the database (models are immutable: registered once, then read).
  await pool.query(
    `INSERT INTO models (model_id, version, sha256, name, classes, class_count, registered_at) VALUES ('bench', '1', $1, 'Bench', $2, 4, $3)
     ON CONFLICT (sha256) DO NOTHING`,
    [hex(0xbe4c), JSON.stringify(REVIEW_CASE_CLASSES), at],
  );
  const modelRowId = await one('SELECT id FROM models WHERE sha256 = $1', [hex(0xbe4c)]);
  const caseId = await one(`INSERT INTO cases (patient_id, accession, specimen, folder, created_at) VALUES ($1, $2, 'other', '/c', $3) RETURNING id`, [
    patientId,
    accession,
    at,
  ]);
  const n = Array.from({ length: cells }, (_, i) => i);
  const images = await pool.query<{ id: number }>(
    `INSERT INTO images (case_id, relative_path, sha256, bytes, width, height, created_at)
     SELECT $1, u.path, u.sha, 1000, 250, 250, $2 FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS u(path, sha, k) ORDER BY u.k RETURNING id`,
    [caseId, at, n.map((i) => `cell-${String(i).padStart(5, '0')}.jpg`), n.map((i) => hex(caseId * 1_000_000 + i + 1))],
  );
  const imageIds = images.rows.map((r) => Number(r.id)).sort((a, b) => a - b);
  await pool.query(`UPDATE cases SET status = 'analysing', model_id = $1 WHERE id = $2`, [modelRowId, caseId]);
  const confidence = n.map((i) => (i % 3 === 0 ? 0.3 : 0.9));
  await pool.query(
    `INSERT INTO predictions (image_id, case_id, model_id, predicted_class, probabilities, confidence, flagged, flag_reasons, created_at)
     SELECT u.image_id, $1, $2, u.cls, u.probs, u.conf, CASE WHEN u.conf < 0.6 THEN 1 ELSE 0 END,
       CASE WHEN u.conf < 0.6 THEN '[{"kind":"low_confidence","detail":"below 0.60"}]' ELSE '[]' END, $3
     FROM unnest($4::bigint[], $5::text[], $6::text[], $7::double precision[]) AS u(image_id, cls, probs, conf)`,
    [
      caseId,
      modelRowId,
      at,
      imageIds,
      n.map((i) => REVIEW_CASE_CLASSES[i % 4]),
      n.map((i) => JSON.stringify(REVIEW_CASE_CLASSES.map((_, c) => (c === i % 4 ? confidence[i]! : (1 - confidence[i]!) / 3)))),
      confidence,
    ],
  );
  await pool.query(`UPDATE cases SET status = 'in_review', analysed_at = $1 WHERE id = $2`, [at, caseId]);
  return { caseId, modelRowId, imageIds };
}
