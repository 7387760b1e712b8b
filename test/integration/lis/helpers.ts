// Set-up for the delivery tests: a real database holding one signed case whose result is queued for the LIS as
// `count` HL7 messages (outbox and MLLP), built by the real encoder from the sample result.
import { DEFAULT_LIS_SETTINGS, type LisSettings } from '../../../src/shared/lis';
import { recordLisResult, saveLisSettings, signCase, storeLisMessages, type MarrowDatabase } from '../../../src/main/db';
import { buildOruR01 } from '../../../src/main/lis/oru-r01';
import { sampleResult } from '../../helpers/lis-sample-result';
import type { Repositories } from '../../../src/main/db/contract';
import { caseInReview } from '../db/helpers';
import { caseInReview as caseInReviewIn } from '../db/store-for-engine';

export function lisSettingsFor(port: number | null, outboxFolder: string): LisSettings {
  return {
    ...DEFAULT_LIS_SETTINGS,
    enabled: true,
    sendingApplication: 'MARROWCOUNT',
    receivingApplication: 'TESTLIS',
    patientIdAuthority: 'HOSP',
    patientIdSystem: 'urn:oid:1.2.3.4',
    outboxFolder,
    mllpHost: port === null ? '' : '127.0.0.1',
    mllpPort: port,
    codeMapping: [],
  };
}

/** Control ids in queue order: T0001, T0002, … */
export function queueMessages(db: MarrowDatabase, count: number, settings: LisSettings): string[] {
  const { caseId } = caseInReview(db, [{ predicted: 'BLA', confidence: 0.9 }], `BM-LIS-${count}`);
  const { signOff } = signCase(db, { caseId, signedBy: 'Dr Test', role: 'Consultant', overrideReason: null, summarySnapshot: '{}' });
  saveLisSettings(db, settings, 'test');
  const result = recordLisResult(db, { caseId, signOffId: signOff.id });
  const controlIds = Array.from({ length: count }, (_, i) => `T${String(i + 1).padStart(4, '0')}`);
  storeLisMessages(db, {
    resultId: result.id,
    resend: false,
    actor: 'test',
    messages: controlIds.map((controlId) => ({
      format: 'hl7v2' as const,
      controlId,
      payload: buildOruR01(sampleResult({ controlId, settings })),
      channels: settings.mllpHost === '' ? ['outbox' as const] : ['outbox' as const, 'mllp' as const],
    })),
  });
  return controlIds;
}

/** queueMessages through the repository contract: the same queue on either engine (a SQLite or PostgreSQL store). */
export async function queueMessagesIn(store: Repositories, count: number, settings: LisSettings): Promise<string[]> {
  const { caseId } = await caseInReviewIn(store, [{ predicted: 'BLA', confidence: 0.9 }], `BM-LIS-${count}`);
  const { signOff } = await store.cases.signCase({ caseId, signedBy: 'Dr Test', role: 'Consultant', overrideReason: null, summarySnapshot: '{}' });
  await store.lis.saveLisSettings(settings, 'test');
  const result = await store.lis.recordLisResult({ caseId, signOffId: signOff.id });
  const controlIds = Array.from({ length: count }, (_, i) => `T${String(i + 1).padStart(4, '0')}`);
  await store.lis.storeLisMessages({
    resultId: result.id,
    resend: false,
    actor: 'test',
    messages: controlIds.map((controlId) => ({
      format: 'hl7v2' as const,
      controlId,
      payload: buildOruR01(sampleResult({ controlId, settings })),
      channels: settings.mllpHost === '' ? ['outbox' as const] : ['outbox' as const, 'mllp' as const],
    })),
  });
  return controlIds;
}

/** The delivery states' statement, shared by deliveryStates and the tests that read it on either engine. */
export const DELIVERY_STATES_SQL = `SELECT m.control_id, d.status, d.attempts, d.last_error FROM lis_deliveries AS d JOIN lis_messages AS m ON m.id = d.message_id
       WHERE d.channel = ? ORDER BY d.id`;

/** Delivery states by control id for one channel, straight from the table. */
export function deliveryStates(db: MarrowDatabase, channel: 'outbox' | 'mllp'): Map<string, { status: string; attempts: number; lastError: string | null }> {
  const rows = db.raw.prepare(DELIVERY_STATES_SQL).all(channel) as { control_id: string; status: string; attempts: number; last_error: string | null }[];
  return new Map(rows.map((r) => [r.control_id, { status: r.status, attempts: r.attempts, lastError: r.last_error }]));
}
