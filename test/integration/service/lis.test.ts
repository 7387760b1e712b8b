// Results to the LIS through the real service: sign-off queues the result in its own transaction, the delivery
// loop builds the HL7 and FHIR messages (with the signed PDF) and delivers them to the outbox and a loopback MLLP
// LIS; an amendment and a new sign-off send a corrected result; resend makes new messages. The same tests on a
// SQLite file and on a PostgreSQL database.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, DiagnosticReport, Observation } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIS_SETTINGS, type LisSettings } from '../../../src/shared/lis';
import { dispatch } from '../../../src/main/boundary/dispatch';
import { splitSegments } from '../../../src/main/lis/hl7';
import { startMllpTestServer, type MllpTestServer } from '../../helpers/mllp-test-server';
import { flat, pdfPages } from '../report/pdf-tools';
import { analysedFixtureCase, ENGINES, startService, type EngineName, type ServiceFixture, TEST_PERSON, usePostgres } from './helpers';

let fx: ServiceFixture;
let lis: MllpTestServer;
const pgSetup = usePostgres();

/** Each test on a fresh database of the engine, with its own loopback LIS. */
function freshServicePerTest(engine: EngineName): void {
  beforeEach(async () => {
    fx = await startService('lis', { engine, pg: pgSetup });
    lis = await startMllpTestServer();
  });
  afterEach(async () => {
    await fx.dispose();
    await lis.close();
  });
}

function settings(overrides: Partial<LisSettings> = {}): LisSettings {
  return {
    ...DEFAULT_LIS_SETTINGS,
    enabled: true,
    sendingApplication: 'MARROWCOUNT',
    sendingFacility: 'HAEM',
    receivingApplication: 'TESTLIS',
    receivingFacility: 'HOSP',
    patientIdAuthority: 'HOSP',
    patientIdSystem: 'urn:oid:1.2.3.4',
    outboxFolder: join(fx.root, 'outbox'),
    mllpHost: '127.0.0.1',
    mllpPort: lis.port,
    codeMapping: [],
    ...overrides,
  };
}

async function signedCase(name: string) {
  const { detail } = await analysedFixtureCase(fx, name);
  await fx.service.authoriseCase({ password: TEST_PERSON.password, caseId: detail.id, overrideReason: 'test case' });
  return detail.id;
}

function field(message: string, segmentId: string, n: number): string[] {
  return splitSegments(message)
    .filter((s) => s[0] === segmentId)
    .map((s) => s[n] ?? '');
}

describe.each(ENGINES)('results to the LIS from the service on %s', (engine) => {
  if (engine === 'postgres' && pgSetup.unavailable !== null) return;
  freshServicePerTest(engine);
  it('sends a signed case as HL7 over MLLP and as HL7 and FHIR files, with the signed PDF in the bundle', async () => {
    await fx.service.saveLisSettings(settings());
    const caseId = await signedCase('lis-final');
    expect(await fx.service.getLisStatus(caseId)).toMatchObject({ enabled: true, pendingResults: 1, deliveries: [] });

    await fx.service.lisDelivery.runOnce();
    const status = await fx.service.getLisStatus(caseId);
    expect(status.pendingResults).toBe(0);
    expect(status.deliveries.map((d) => [d.format, d.channel, d.status, d.resultStatus]).sort()).toEqual([
      ['fhir-r4', 'outbox', 'sent', 'F'],
      ['hl7v2', 'mllp', 'acknowledged', 'F'],
      ['hl7v2', 'outbox', 'sent', 'F'],
    ]);
    const hl7 = status.deliveries.find((d) => d.format === 'hl7v2' && d.channel === 'outbox')!;
    expect(lis.receipts).toEqual([hl7.controlId]);
    const message = readFileSync(hl7.destination!, 'utf8');
    expect(lis.messages.get(hl7.controlId)).toBe(message);
    expect(field(message, 'MSH', 10)).toEqual([hl7.controlId]);
    expect(field(message, 'PID', 3)).toEqual(['MRN-lis-final^^^HOSP^MR']);
    expect(field(message, 'OBR', 25)).toEqual(['F']);
    expect(new Set(field(message, 'OBX', 11))).toEqual(new Set(['F']));

    const fhir = status.deliveries.find((d) => d.format === 'fhir-r4')!;
    const bundle = JSON.parse(readFileSync(fhir.destination!, 'utf8')) as Bundle;
    expect(bundle.identifier!.value).toBe(fhir.controlId);
    const report = bundle.entry!.map((e) => e.resource!).find((r): r is DiagnosticReport => r.resourceType === 'DiagnosticReport')!;
    const pdf = Buffer.from(report.presentedForm![0]!.data!, 'base64');
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    // The signed report, not a draft (read back with poppler, as a viewer shows it).
    const pdfPath = join(fx.root, 'from-bundle.pdf');
    writeFileSync(pdfPath, pdf);
    const text = flat(pdfPages(pdfPath).join(' '));
    expect(text).not.toContain('DRAFT');
    expect(text).toContain(TEST_PERSON.displayName);
    expect(report.status).toBe('final');
  });

  it('sends the sign-off after an amendment as a corrected result that says why', async () => {
    await fx.service.saveLisSettings(settings());
    const caseId = await signedCase('lis-corrected');
    await fx.service.lisDelivery.runOnce();
    await fx.service.amendCase({ caseId, reason: 'blast count revised' });
    await fx.service.authoriseCase({ password: TEST_PERSON.password, caseId, overrideReason: 'test case' });
    await fx.service.lisDelivery.runOnce();

    const deliveries = (await fx.service.getLisStatus(caseId)).deliveries;
    const corrected = deliveries.filter((d) => d.resultStatus === 'C');
    expect(corrected.map((d) => d.status).sort()).toEqual(['acknowledged', 'sent', 'sent']);
    const hl7 = corrected.find((d) => d.format === 'hl7v2' && d.channel === 'outbox')!;
    const message = readFileSync(hl7.destination!, 'utf8');
    expect(field(message, 'OBR', 25)).toEqual(['C']);
    expect(new Set(field(message, 'OBX', 11))).toEqual(new Set(['C']));
    expect(field(message, 'NTE', 3).some((t) => t.includes('Corrected result') && t.includes('blast count revised'))).toBe(true);
    // Final first, corrected after it, over the same connection order.
    expect(lis.receipts).toHaveLength(2);
    expect(lis.receipts[1]).toBe(hl7.controlId);
    const bundle = JSON.parse(readFileSync(corrected.find((d) => d.format === 'fhir-r4')!.destination!, 'utf8')) as Bundle;
    const observations = bundle.entry!.map((e) => e.resource!).filter((r): r is Observation => r.resourceType === 'Observation');
    expect(new Set(observations.map((o) => o.status))).toEqual(new Set(['corrected']));
  });

  it('resends the current result as new messages with new control ids, keeping the old ones on record', async () => {
    await fx.service.saveLisSettings(settings());
    const caseId = await signedCase('lis-resend');
    await fx.service.lisDelivery.runOnce();
    const before = (await fx.service.getLisStatus(caseId)).deliveries;
    const after = await fx.service.resendToLis(caseId);
    await fx.service.lisDelivery.runOnce();
    const now = (await fx.service.getLisStatus(caseId)).deliveries;
    expect(after.deliveries).toHaveLength(6);
    expect(now.filter((d) => d.status !== 'queued')).toHaveLength(6);
    const oldIds = new Set(before.map((d) => d.controlId));
    const newIds = new Set(now.map((d) => d.controlId).filter((id) => !oldIds.has(id)));
    expect(newIds.size).toBe(2);
    expect(lis.distinct()).toHaveLength(2);
    // A resend of the first result is still the final result, not a correction.
    expect(new Set(now.map((d) => d.resultStatus))).toEqual(new Set(['F']));
  });

  it('sends nothing for a case signed while delivery is off, until a person sends it', async () => {
    await fx.service.saveLisSettings(settings({ enabled: false }));
    const caseId = await signedCase('lis-off');
    await fx.service.lisDelivery.runOnce();
    expect(await fx.service.getLisStatus(caseId)).toMatchObject({ enabled: false, pendingResults: 0, deliveries: [] });
    expect(lis.receipts).toEqual([]);
    await fx.service.resendToLis(caseId);
    await fx.service.lisDelivery.runOnce();
    expect(lis.receipts).toHaveLength(1);
    expect((await fx.service.getLisStatus(caseId)).deliveries.every((d) => d.resultStatus === 'F')).toBe(true);
  });

  it('refuses to turn delivery on without the identifiers a message needs, naming the switch', async () => {
    const result = await dispatch(fx.service, 'saveLisSettings', [settings({ patientIdSystem: '', patientIdAuthority: '' })]);
    expect(result).toMatchObject({ ok: false, error: { kind: 'validation', field: 'enabled' } });
    expect(!result.ok && result.error.message).toMatch(/patient identifier namespace/);
  });

  it('refuses a code mapping line it cannot read, saying which line', async () => {
    const result = await dispatch(fx.service, 'saveLisSettings', [
      settings({
        codeMapping: [
          { component: 'BLA', code: 'ok-1', hl7System: 'LN', fhirSystem: 'http://loinc.org' },
          { component: 'LYT', code: 'x', hl7System: '99LAB', fhirSystem: 'not a uri' },
        ],
      }),
    ]);
    expect(result).toMatchObject({ ok: false, error: { kind: 'validation', field: 'codeMapping' } });
    expect(!result.ok && result.error.message).toMatch(/^Line 2/);
  });

  it('refuses to resend a case that is not signed', async () => {
    await fx.service.saveLisSettings(settings());
    const { detail } = await analysedFixtureCase(fx, 'lis-unsigned');
    await expect(fx.service.resendToLis(detail.id)).rejects.toMatchObject({ kind: 'conflict' });
  });

  it('uses the lab’s code mapping in both formats', async () => {
    await fx.service.saveLisSettings(settings({ codeMapping: [{ component: 'LYT', code: 'LAB-LYM', hl7System: '99LAB', fhirSystem: 'urn:oid:1.2.3.9' }] }));
    const caseId = await signedCase('lis-mapped');
    await fx.service.lisDelivery.runOnce();
    const deliveries = (await fx.service.getLisStatus(caseId)).deliveries;
    const hl7 = readFileSync(deliveries.find((d) => d.format === 'hl7v2' && d.channel === 'outbox')!.destination!, 'utf8');
    expect(field(hl7, 'OBX', 3)).toContain('LAB-LYM^lymphocyte/100 nucleated cells^99LAB');
    const fhir = readFileSync(deliveries.find((d) => d.format === 'fhir-r4')!.destination!, 'utf8');
    expect(fhir).toContain('"system": "urn:oid:1.2.3.9"');
  });
});

describe.each(ENGINES)('a signed result whose messages cannot be built yet on %s', (engine) => {
  if (engine === 'postgres' && pgSetup.unavailable !== null) return;
  freshServicePerTest(engine);
  it('says why in the case status and sends it once the settings are complete', async () => {
    await fx.service.saveLisSettings(settings());
    const caseId = await signedCase('lis-incomplete');
    // The namespace is cleared behind the service's back (as an older settings row would be): the build must wait.
    await (await fx.store()).lis.saveLisSettings({ ...settings(), patientIdAuthority: '' }, 'test');
    await fx.service.lisDelivery.runOnce();
    await fx.service.lisDelivery.runOnce();
    const waiting = await fx.service.getLisStatus(caseId);
    expect(waiting).toMatchObject({ pendingResults: 1, deliveries: [] });
    expect(waiting.buildErrors).toEqual([expect.stringContaining('patient identifier namespace')]);
    await fx.service.saveLisSettings(settings());
    await fx.service.lisDelivery.runOnce();
    expect(await fx.service.getLisStatus(caseId)).toMatchObject({ pendingResults: 0, buildErrors: [] });
    expect(lis.receipts).toHaveLength(1);
  });
});
