// A SQLite database with one of everything a lab's station holds, written through the real synchronous repository
// functions (every trigger and rule applied as in use): for `db copy` and for seeding PostgreSQL with realistic rows
// (signed cases with LIS results, users, signatures, a lab model) without a PostgreSQL twin of each writer.
import { createHash } from 'node:crypto';
import type { CellClassCode } from '../../../src/shared/cell-classes';
import type { LabHead } from '../../../src/shared/lab-head';
import {
  addReview,
  amendCase,
  approveLabModel,
  beginAnalysis,
  closeDatabase,
  createSession,
  createUser,
  insertPredictions,
  insertSignature,
  markDeliveryAcknowledged,
  markDeliverySending,
  markDeliverySent,
  nextOpenDelivery,
  openDatabase,
  recordCancellation,
  recordLisResult,
  recordSpecimenDate,
  retractLatestReview,
  runAsUser,
  saveLisSettings,
  saveSettings,
  setCaseStatus,
  signCase,
  storeLabModel,
  storeLisMessages,
  type MarrowDatabase,
  type NewLabModel,
} from '../../../src/main/db';
import { DEFAULT_LIS_SETTINGS } from '../../../src/shared/lis';
import { addCase, addImages, addModel, FOUR_CLASSES, prediction } from './helpers';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A deterministic embedding of `dim` features (stored as float16 blobs). */
function embedding(seed: number, dim = 16): Float32Array {
  return Float32Array.from({ length: dim }, (_, i) => Math.sin(seed * 7.1 + i) * 3);
}

/** A lab model of the given base model (a head over its 16-feature embeddings), as the trainer would store it. */
export function labModelInput(baseModelRowId: number, n: number, classes: CellClassCode[] = FOUR_CLASSES): NewLabModel {
  const dim = 16;
  const head: LabHead = {
    formatVersion: 1,
    classes,
    dim,
    mean: Array.from({ length: dim }, (_, i) => i / 10),
    std: Array.from({ length: dim }, () => 1),
    weights: Array.from({ length: classes.length * dim }, (_, i) => ((i * 37) % 11) / 100 - 0.05),
    bias: classes.map((_, i) => i / 100),
    temperature: 1.25,
    residual: true,
  };
  const headJson = JSON.stringify(head);
  return {
    baseModelRowId,
    registration: { modelId: 'model-a+lab', version: `lab-${n}`, sha256: sha256(`lab model ${n}`), name: `Lab model ${n}`, provisionalClasses: [] },
    head,
    headSha256: sha256(headJson),
    headJson,
    cases: [
      { accession: 'BM-SIGNED', cells: 6, fold: 'train' },
      { accession: 'BM-OTHER', cells: 2, fold: 'test' },
    ],
    minimumPerClass: 5,
    validation: { lab: { macroF1: 0.81 }, base: { macroF1: 0.78 }, note: 'fixture' },
    trainedBy: 'Dr Lab',
    trainedAt: '2026-11-01T10:00:00.000Z',
  };
}

export interface CopyFixture {
  path: string;
  signedCaseId: number;
  cancelledCaseId: number;
  reviewCaseId: number;
  modelRowId: number;
  labModelId: number;
}

/**
 * Writes the fixture into a new SQLite file at `path`: a case signed, amended, reviewed again (with an undo) and
 * signed again (an F and a C result for the LIS, messages in several delivery states); a cancelled case; a case in
 * review with a signature; settings, a specimen date, a lab model (approved), then accounts and a session.
 */
export function buildCopyFixture(path: string): CopyFixture {
  const db = openDatabase(path);
  try {
    return writeFixture(db, path);
  } finally {
    closeDatabase(db);
  }
}

function writeFixture(db: MarrowDatabase, path: string): CopyFixture {
  saveSettings(db, { labName: 'Haematology — Ward 7 «test»' }, 'admin');
  const model = addModel(db);
  const classes: CellClassCode[] = ['BLA', 'LYT', 'NGS', 'EBO', 'BLA', 'NGS', 'NGS', 'LYT'];

  // Case 1: analysed with embeddings, reviewed, signed, amended, reviewed again, signed again.
  const signed = addCase(db, 'BM-SIGNED', 'MRN-1');
  recordSpecimenDate(db, { caseId: signed.id, collectedOn: '2026-10-30', actor: 'tech' });
  const images = addImages(db, signed.id, classes.length);
  beginAnalysis(db, { caseId: signed.id, modelRowId: model.id, actor: 'tech' });
  insertPredictions(
    db,
    model.id,
    classes.map((c, i) => ({ ...prediction(images[i]!, c, 0.5 + i * 0.06), embedding: embedding(i), openSetScore: i === 3 ? 4.25 : 1 / 3 })),
  );
  setCaseStatus(db, signed.id, 'in_review', 'tech');
  addReview(db, { caseId: signed.id, imageId: images[0]!, label: 'LYT', reviewer: 'Dr Ada', note: 'nucleus "clumped"' });
  addReview(db, { caseId: signed.id, imageId: images[1]!, label: 'LYT', reviewer: 'Dr Ada' });
  addReview(db, { caseId: signed.id, imageId: images[2]!, label: 'BLA', reviewer: 'Dr Ada' });
  retractLatestReview(db, { caseId: signed.id, imageId: images[2]!, reviewer: 'Dr Ada' });
  saveLisSettings(db, { ...DEFAULT_LIS_SETTINGS, enabled: true, outboxFolder: '/lis/out', mllpHost: '10.0.0.5', mllpPort: 2575, codeMapping: [] }, 'admin');
  const first = signCase(db, { caseId: signed.id, signedBy: 'Dr Ada', role: 'haematologist', overrideReason: null, summarySnapshot: '{"BLA":1}' });
  const firstResult = recordLisResult(db, { caseId: signed.id, signOffId: first.signOff.id });
  storeLisMessages(db, {
    resultId: firstResult.id,
    resend: false,
    actor: 'system',
    messages: [{ format: 'hl7v2', controlId: 'MC-0001', payload: 'MSH|^~\\&|MARROWCOUNT|LAB\rOBX|1|NM|BLA||12.5', channels: ['outbox', 'mllp'] }],
  });
  const outbox = nextOpenDelivery(db, 'outbox')!;
  markDeliverySent(db, outbox.id, '/lis/out/MC-0001.hl7');
  const mllp = nextOpenDelivery(db, 'mllp')!;
  markDeliverySending(db, mllp.id, '10.0.0.5:2575');
  markDeliveryAcknowledged(db, mllp.id, 'AA');
  amendCase(db, { caseId: signed.id, by: 'Dr Ada', reason: 'Blast count corrected' });
  addReview(db, { caseId: signed.id, imageId: images[4]!, label: 'NGS', reviewer: 'Dr Ada' });
  const second = signCase(db, { caseId: signed.id, signedBy: 'Dr Ada', role: 'haematologist', overrideReason: null, summarySnapshot: '{"BLA":0}' });
  const corrected = recordLisResult(db, { caseId: signed.id, signOffId: second.signOff.id });
  storeLisMessages(db, {
    resultId: corrected.id,
    resend: false,
    actor: 'system',
    messages: [
      { format: 'hl7v2', controlId: 'MC-0002', payload: 'MSH|^~\\&|MARROWCOUNT|LAB\rOBX|1|NM|BLA||0', channels: ['outbox', 'mllp'] },
      { format: 'fhir-r4', controlId: 'MC-0003', payload: '{"resourceType":"Bundle"}', channels: ['outbox'] },
    ],
  });

  // Case 2: analysis cancelled half-way.
  const cancelled = addCase(db, 'BM-CANCELLED', 'MRN-2');
  const cancelledImages = addImages(db, cancelled.id, 4, 100);
  beginAnalysis(db, { caseId: cancelled.id, modelRowId: model.id, actor: 'tech' });
  insertPredictions(db, model.id, [prediction(cancelledImages[0]!, 'EBO', 0.93), prediction(cancelledImages[1]!, 'BLA', 0.41)]);
  recordCancellation(db, { caseId: cancelled.id, filesAnalysed: 2, filesTotal: 4, actor: 'tech' });

  // A lab model on the base model, approved.
  const lab = storeLabModel(db, labModelInput(model.id, 1));
  approveLabModel(db, { labModelId: lab.id, by: 'Dr Ada', role: 'pathologist', reason: 'Validated on held-out cases' });

  // Accounts last (once one exists, decisions need a person), a session, and a signature on a case in review.
  const admin = createUser(db, {
    login: 'admin',
    displayName: 'Ada Admin',
    roles: ['admin'],
    passwordHash: 'scrypt$fixture$hash',
    mustChangePassword: false,
    createdBy: null,
  });
  const pathologist = createUser(db, {
    login: 'drbo',
    displayName: 'Dr Bo',
    roles: ['pathologist'],
    passwordHash: 'scrypt$fixture$hash2',
    mustChangePassword: true,
    createdBy: { id: admin.id, displayName: admin.displayName },
  });
  createSession(db, { userId: pathologist.id, tokenSha256: sha256('token'), transport: 'cli', at: '2026-11-02T09:00:00.000Z' });
  const inReview = addCase(db, 'BM-REVIEW', 'MRN-1');
  const reviewImages = addImages(db, inReview.id, 3, 200);
  beginAnalysis(db, { caseId: inReview.id, modelRowId: model.id, actor: 'tech' });
  insertPredictions(
    db,
    model.id,
    reviewImages.map((id, i) => prediction(id, FOUR_CLASSES[i]!, 0.9)),
  );
  setCaseStatus(db, inReview.id, 'in_review', 'tech');
  runAsUser({ id: pathologist.id, displayName: 'Dr Bo', roles: ['pathologist'] }, () => {
    addReview(db, { caseId: inReview.id, imageId: reviewImages[0]!, label: 'NGS', reviewer: 'Dr Bo' });
    insertSignature(db, { caseId: inReview.id, role: 'pathologist', meaning: 'medical_authorisation', contentSha256: sha256('differential') });
  });
  return { path, signedCaseId: signed.id, cancelledCaseId: cancelled.id, reviewCaseId: inReview.id, modelRowId: model.id, labModelId: lab.id };
}
