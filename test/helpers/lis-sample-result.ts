// A signed result for the message tests, with values chosen so that every figure can be worked out by hand:
// 100 nucleated cells (so each count is its own percentage), 2 artefacts and 3 smudge cells outside the NDC, and
// names, identifiers and notes holding every HL7 delimiter.
import { computeDifferential } from '../../src/shared/differential';
import { DEFAULT_LIS_SETTINGS } from '../../src/shared/lis';
import type { LisResultMessageData } from '../../src/main/lis/result-message-data';

export const SAMPLE_COUNTS = {
  BLA: 7,
  PMO: 3,
  MYB: 10,
  MMZ: 10,
  NGB: 10,
  NGS: 20,
  EOS: 2,
  MON: 3,
  LYT: 10,
  PLM: 1,
  EBO: 20,
  PEB: 4,
  ART: 2,
  KSC: 3,
} as const;

export function sampleResult(overrides: Partial<LisResultMessageData> = {}): LisResultMessageData {
  return {
    controlId: 'MC0123456789ABCDEF01',
    createdAt: '2026-12-04T11:30:16.000Z',
    resultStatus: 'F',
    settings: {
      ...DEFAULT_LIS_SETTINGS,
      enabled: true,
      sendingApplication: 'MARROWCOUNT',
      sendingFacility: 'HAEM LAB',
      receivingApplication: 'LIS',
      receivingFacility: 'ST ELSEWHERE',
      patientIdAuthority: 'HOSP&X',
      patientIdSystem: 'urn:oid:1.2.3.4',
      codeMapping: [{ component: 'BLA', code: 'L-BLA', hl7System: '99LAB', fhirSystem: 'urn:oid:9.9' }],
    },
    caseId: 12,
    accession: 'BM-26/0042',
    specimen: 'bone_marrow_aspirate',
    patient: { labId: 'MRN|42', name: "O'Brien^Jr & ~Co\\", birthDate: '1950-03-04' },
    analysedAt: '2026-12-04T10:00:00.000Z',
    // Before accounts a release has no signature rows; tests of the two signatures pass them in overrides.
    signatures: [],
    interpretiveComment: null,
    signOff: {
      signedBy: 'Dr A|B',
      role: 'Consultant',
      signedAt: '2026-12-04T11:30:15.000Z',
      overrideReason: 'two cells\nunclear | see note',
      unreviewedFlaggedAtSigning: 2,
    },
    correction: null,
    model: { id: 'marrowcount-ref', version: '1.2.0', name: 'MarrowCount reference', sha256: 'ab'.repeat(32), researchOnly: true },
    differential: computeDifferential(SAMPLE_COUNTS),
    ...overrides,
  };
}
