// Release in two electronic signatures, through the real service, as separate people's sessions: a technician
// submits (technical validation), a pathologist authorises with her password and an interpretive comment, and only
// that releases the result. Page 1 of the PDF, the case detail and both LIS formats carry each signature with its
// meaning; refusals (wrong role, wrong password, same person twice, not submitted) leave the case as it was.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, DiagnosticReport, Observation, Provenance } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MarrowApi } from '../../../src/shared/api';
import { DEFAULT_LIS_SETTINGS } from '../../../src/shared/lis';
import { openStore } from '../../../src/main/db/store';
import { splitSegments } from '../../../src/main/lis/hl7';
import { toApiError } from '../../../src/main/service/errors';
import { flat, pdfPages } from '../report/pdf-tools';
import { ENGINES, usePostgres } from '../db/engines';
import { analysedFixtureCase, startService, TEST_ADMIN, type ServiceFixture } from './helpers';
import { openRaw } from './raw-db';

const TECH = { login: 'tina', displayName: 'Tina Technician', password: 'tina-password-1', roles: ['technician' as const] };
const PATH = { login: 'paul', displayName: 'Dr Paula Pathologist', password: 'paula-password-1', roles: ['pathologist' as const] };
const BOTH = { login: 'bea', displayName: 'Dr Bea Both', password: 'bea-password-12', roles: ['technician' as const, 'pathologist' as const] };
const COMMENT = 'Normocellular marrow with trilineage haematopoiesis.\nNo excess of blasts.';

async function refusal(promise: Promise<unknown>): Promise<{ kind: string; message: string; field?: string }> {
  const outcome = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(outcome, 'expected a refusal').not.toBeNull();
  return toApiError(outcome);
}

const pgSetup = usePostgres();

describe.each(ENGINES)('on %s', (engine) => {
  describe.skipIf(engine === 'postgres' && pgSetup.unavailable !== null)('release in two electronic signatures', () => {
    let fx: ServiceFixture;
    let admin: MarrowApi;
    const apis = new Map<string, MarrowApi>();
    const as = (who: { login: string }) => apis.get(who.login)!;

    beforeAll(async () => {
      fx = await startService('signatures', engine === 'postgres' ? { databaseLocation: await pgSetup.freshUrl() } : {});
      // The fixture's test person (every role) sets cases up; the release itself is done by separate people.
      await fx.service.getSession();
      admin = fx.host.forSession({ transport: 'cli', token: null });
      await admin.login({ login: TEST_ADMIN.login, password: TEST_ADMIN.password });
      // Two people sign unless the lab allows a pathologist alone: the default, which this file tests.
      await admin.saveSecuritySettings({ idleLockMinutes: 15, pathologistMaySignAlone: false });
      await admin.saveLisSettings({
        ...DEFAULT_LIS_SETTINGS,
        enabled: true,
        sendingApplication: 'MARROWCOUNT',
        receivingApplication: 'LIS',
        patientIdAuthority: 'HOSP',
        patientIdSystem: 'urn:oid:1.2.3.4',
        outboxFolder: join(fx.root, 'outbox'),
      });
      for (const person of [TECH, PATH, BOTH]) {
        await admin.createUser(person);
        const api = fx.host.forSession({ transport: 'cli', token: null });
        await api.login({ login: person.login, password: person.password });
        apis.set(person.login, api);
      }
    }, 60_000);
    afterAll(async () => {
      await fx.dispose();
    });

    it('releases only on the pathologist’s authorisation, with both signatures on screen, page 1 of the PDF and the LIS', async () => {
      const { detail } = await analysedFixtureCase(fx, 'two-step');
      const tech = as(TECH);
      const path = as(PATH);

      // Not submitted yet: the pathologist cannot authorise alone (the lab requires two people).
      const notSubmitted = await refusal(path.authoriseCase({ caseId: detail.id, password: PATH.password, overrideReason: 'x' }));
      expect(notSubmitted.kind).toBe('conflict');
      expect(notSubmitted.message).toContain('a technician validates it first (Submit), then a pathologist authorises it');

      const submitted = await tech.submitCase({ caseId: detail.id, password: TECH.password, overrideReason: 'Remaining flagged cells seen at the microscope' });
      expect(submitted.status).toBe('submitted');
      expect(submitted.signatures).toEqual([expect.objectContaining({ printedName: TECH.displayName, role: 'Technician', meaning: 'technical_validation' })]);
      // Submitted is not released: nothing for the LIS, and the report is still a draft.
      expect((await tech.getLisStatus(detail.id)).pendingResults).toBe(0);

      // A technician's authorisation is refused by the role table, naming what it needs.
      const byTech = await refusal(tech.authoriseCase({ caseId: detail.id, password: TECH.password }));
      expect(byTech).toMatchObject({ kind: 'forbidden', message: `Authorise case needs a pathologist; ${TECH.displayName} is logged in as technician.` });

      const released = await path.authoriseCase({
        caseId: detail.id,
        password: PATH.password,
        interpretiveComment: COMMENT,
        overrideReason: 'Seen at the microscope',
      });
      expect(released.status).toBe('signed');
      expect(released.signedBy).toBe(PATH.displayName);
      expect(released.interpretiveComment).toBe(COMMENT);
      expect(released.signatures.map((s) => [s.meaning, s.printedName, s.role])).toEqual([
        ['technical_validation', TECH.displayName, 'Technician'],
        ['medical_authorisation', PATH.displayName, 'Pathologist'],
      ]);

      // Page 1 of the PDF: each signature with its meaning, and the comment.
      const saved = await path.saveReport({ caseId: detail.id, path: join(fx.root, 'reports', 'two-step.pdf') });
      const page1 = flat(pdfPages(saved.path)[0]!);
      expect(page1).toMatch(new RegExp(`Technically validated by ${TECH.displayName}, Technician — \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC`));
      expect(page1).toMatch(new RegExp(`Medically authorised by ${PATH.displayName}, Pathologist — \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC`));
      expect(page1).toContain('Interpretive comment Normocellular marrow with trilineage haematopoiesis. No excess of blasts.');
      expect(page1).not.toContain('DRAFT');

      // The LIS: HL7 OBR-32 names the authoriser, OBX-16 both signers, an NTE the comment; FHIR likewise.
      await fx.service.lisDelivery.runOnce();
      const status = await path.getLisStatus(detail.id);
      const hl7 = readFileSync(status.deliveries.find((d) => d.format === 'hl7v2')!.destination!, 'utf8');
      const segments = splitSegments(hl7);
      expect(segments.find((s) => s[0] === 'OBR')![32]).toBe(`&${PATH.displayName}`);
      expect(new Set(segments.filter((s) => s[0] === 'OBX').map((s) => s[16]))).toEqual(new Set([`^${TECH.displayName}~^${PATH.displayName}`]));
      const notes = segments.filter((s) => s[0] === 'NTE').map((s) => s[3]);
      expect(notes).toContain(`Interpretive comment (${PATH.displayName}): Normocellular marrow with trilineage haematopoiesis.\\.br\\No excess of blasts.`);
      expect(notes.some((n) => n!.startsWith(`Medically authorised by ${PATH.displayName} (Pathologist) on `))).toBe(true);
      const bundle = JSON.parse(readFileSync(status.deliveries.find((d) => d.format === 'fhir-r4')!.destination!, 'utf8')) as Bundle;
      const resources = bundle.entry!.map((e) => e.resource!);
      const report = resources.find((r): r is DiagnosticReport => r.resourceType === 'DiagnosticReport')!;
      expect(report.resultsInterpreter).toEqual([{ display: PATH.displayName }]);
      expect(report.conclusion).toContain(`Interpretive comment (${PATH.displayName}): ${COMMENT}`);
      const observation = resources.find((r): r is Observation => r.resourceType === 'Observation')!;
      expect(observation.performer).toEqual([{ display: TECH.displayName }, { display: PATH.displayName }]);
      const provenance = resources.find((r): r is Provenance => r.resourceType === 'Provenance')!;
      expect(provenance.agent.filter((a) => a.who.display !== undefined).map((a) => [a.type?.coding?.[0]?.code, a.who.display])).toEqual([
        ['verifier', TECH.displayName],
        ['attester', PATH.displayName],
      ]);
    }, 60_000);

    it('refuses a signature with a wrong password, records it, and releases nothing', async () => {
      const { detail } = await analysedFixtureCase(fx, 'wrong-password');
      await as(TECH).submitCase({ caseId: detail.id, password: TECH.password, overrideReason: 'test' });
      const wrong = await refusal(as(PATH).authoriseCase({ caseId: detail.id, password: 'not-her-password', overrideReason: 'test' }));
      expect(wrong).toMatchObject({ kind: 'validation', field: 'password' });
      expect(wrong.message).toContain('Wrong password: the medical authorisation of case ACC-wrong-password was refused and the attempt recorded');
      expect((await as(PATH).getCase(detail.id)).status).toBe('submitted');
      const store = await openStore(fx.databaseLocation);
      const db = await openRaw(fx.databaseLocation);
      try {
        const refused = (await store.audit.listAuditLog()).filter((r) => r.action === 'signature_refused' && r.caseId === detail.id);
        const paulId = (await admin.listUsers()).find((u) => u.login === 'paul')!.id;
        expect(refused.map((r) => [r.userId, (r.detail as { meaning: string }).meaning])).toEqual([[paulId, 'medical authorisation']]);
        expect(await db.all('SELECT count(*) AS n FROM sign_offs WHERE case_id = ?', [detail.id])).toEqual([{ n: 0 }]);
      } finally {
        await db.close();
        await store.close();
      }
    });

    it('refuses the same person’s authorisation of a case they validated, unless the lab allows one pathologist alone', async () => {
      const { detail } = await analysedFixtureCase(fx, 'same-person');
      const bea = as(BOTH);
      await bea.submitCase({ caseId: detail.id, password: BOTH.password, overrideReason: 'test' });
      const twice = await refusal(bea.authoriseCase({ caseId: detail.id, password: BOTH.password, overrideReason: 'test' }));
      expect(twice.message).toContain('another person must authorise it');

      // With the lab setting on, a pathologist who counted a case signs it alone: one act, both meanings.
      await admin.saveSecuritySettings({ idleLockMinutes: 15, pathologistMaySignAlone: true });
      const { detail: other } = await analysedFixtureCase(fx, 'alone');
      const alone = await as(PATH).authoriseCase({ caseId: other.id, password: PATH.password, overrideReason: 'test' });
      expect(alone.signatures.map((s) => [s.meaning, s.printedName, s.role])).toEqual([
        ['technical_validation', PATH.displayName, 'Pathologist'],
        ['medical_authorisation', PATH.displayName, 'Pathologist'],
      ]);
      await admin.saveSecuritySettings({ idleLockMinutes: 15, pathologistMaySignAlone: false });
    }, 60_000);

    it('refuses in SQL a signature in a role its person does not hold, whoever writes', async () => {
      const db = await openRaw(fx.databaseLocation);
      try {
        const [tina] = await db.all<{ id: number }>(`SELECT id FROM users WHERE login = 'tina'`);
        const insert = (...values: unknown[]) =>
          db.all(
            `INSERT INTO signatures (case_id, user_id, printed_name, role, meaning, signed_at, content_sha256) VALUES (1, ?, ?, ?, ?, '2026-01-01T00:00:00Z', ?)`,
            values,
          );
        await expect(insert(tina!.id, TECH.displayName, 'pathologist', 'medical_authorisation', 'a'.repeat(64))).rejects.toThrow(
          /a signature's role must be one its user holds/,
        );
        await expect(insert(tina!.id, 'Somebody Else', 'technician', 'technical_validation', 'a'.repeat(64))).rejects.toThrow(
          /printed name must be its user's name/,
        );
        await expect(db.all('UPDATE signatures SET printed_name = printed_name')).rejects.toThrow(/a signature is never changed/);
      } finally {
        await db.close();
      }
    });
  });
});
