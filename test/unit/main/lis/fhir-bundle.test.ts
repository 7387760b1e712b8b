import type { DiagnosticReport, Observation, Patient, Provenance } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { buildFhirBundle, entryUuid } from '../../../../src/main/lis/fhir-bundle';
import { sampleResult } from '../../../helpers/lis-sample-result';

const PDF = Buffer.from('%PDF-1.7 sample report bytes');

function bundleOf(overrides: Parameters<typeof sampleResult>[0] = {}, pdf: Buffer | null = PDF) {
  return buildFhirBundle({ ...sampleResult(overrides), pdfBase64: pdf === null ? null : pdf.toString('base64') });
}

/** Every `reference` string anywhere in the resource. */
function references(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(references);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, v]) => (key === 'reference' && typeof v === 'string' ? [v] : references(v)));
}

function observation(bundle: ReturnType<typeof bundleOf>, code: string): Observation {
  const found = bundle.entry!.map((e) => e.resource).find((r): r is Observation => r?.resourceType === 'Observation' && r.code.coding?.[0]?.code === code);
  if (found === undefined) throw new Error(`no Observation coded ${code}`);
  return found;
}

describe('FHIR R4 Bundle for a signed differential', () => {
  it('is a transaction of Patient, Specimen, Device, the Observations, the DiagnosticReport and a Provenance', () => {
    const bundle = bundleOf();
    expect(bundle).toMatchObject({
      resourceType: 'Bundle',
      type: 'transaction',
      identifier: { value: 'MC0123456789ABCDEF01' },
      timestamp: '2026-12-04T11:30:16.000Z',
    });
    const types = bundle.entry!.map((e) => e.resource!.resourceType);
    expect(types.slice(0, 3)).toEqual(['Patient', 'Specimen', 'Device']);
    expect(types.filter((t) => t === 'Observation')).toHaveLength(25);
    expect(types.slice(-2)).toEqual(['DiagnosticReport', 'Provenance']);
    for (const entry of bundle.entry!) {
      expect(entry.fullUrl).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(entry.request).toMatchObject({ method: 'POST', url: entry.resource!.resourceType });
    }
    // The patient is created only if the lab's identifier is not known to the server yet.
    expect(bundle.entry![0]!.request!.ifNoneExist).toBe('identifier=urn%3Aoid%3A1.2.3.4|MRN%7C42');
  });

  it('has every reference point at an entry of the same bundle', () => {
    const bundle = bundleOf();
    const urls = new Set(bundle.entry!.map((e) => e.fullUrl));
    const refs = bundle.entry!.flatMap((e) => references(e.resource));
    expect(refs.length).toBeGreaterThan(50);
    for (const ref of refs) expect(urls.has(ref), ref).toBe(true);
  });

  it('carries the patient as the lab identifies them, names with delimiters unchanged', () => {
    const patient = bundleOf().entry![0]!.resource as Patient;
    expect(patient).toEqual({
      resourceType: 'Patient',
      identifier: [{ use: 'usual', system: 'urn:oid:1.2.3.4', value: 'MRN|42' }],
      name: [{ text: "O'Brien^Jr & ~Co\\" }],
      birthDate: '1950-03-04',
    });
  });

  it('gives each figure a UCUM valueQuantity, the LOINC codes of the issue and local codes elsewhere', () => {
    const bundle = bundleOf();
    expect(observation(bundle, '38257-2')).toMatchObject({
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '38257-2' }] },
      valueQuantity: { value: 105, unit: 'cells', system: 'http://unitsofmeasure.org', code: '{cells}' },
    });
    expect(observation(bundle, '11138-5').valueQuantity).toEqual({ value: 2.71, unit: 'ratio', system: 'http://unitsofmeasure.org', code: '{ratio}' });
    const blasts = observation(bundle, 'BLASTS');
    expect(blasts.code.coding![0]!.system).toBe('urn:marrowcount:code');
    expect(blasts.valueQuantity).toEqual({ value: 7, unit: 'percent', system: 'http://unitsofmeasure.org', code: '%' });
    expect(blasts.note![0]!.text).toBe('95% CI 3.4 to 13.7 % (Wilson)');
    expect(blasts.note!.length).toBe(4); // the interval and one advisory per threshold (5, 10, 20 %)
    // The lab's mapping replaces the local code of BLA.
    expect(observation(bundle, 'L-BLA').code.coding).toEqual([{ system: 'urn:oid:9.9', code: 'L-BLA', display: 'blast/100 nucleated cells' }]);
    expect(observation(bundle, 'NGS').valueQuantity!.value).toBe(20);
  });

  it('attaches the PDF as the report’s presentedForm and names the reviewer and the model', () => {
    const bundle = bundleOf();
    const report = bundle.entry!.find((e) => e.resource!.resourceType === 'DiagnosticReport')!.resource as DiagnosticReport;
    expect(report.status).toBe('final');
    expect(report.code.coding![0]).toMatchObject({ system: 'http://loinc.org', code: '47286-0' });
    expect(report.presentedForm).toHaveLength(1);
    expect(report.presentedForm![0]!.contentType).toBe('application/pdf');
    expect(Buffer.from(report.presentedForm![0]!.data!, 'base64').equals(PDF)).toBe(true);
    expect(report.resultsInterpreter).toEqual([{ display: 'Dr A|B' }]);
    expect(report.result).toHaveLength(25);
    expect(report.conclusion).toContain('Not for diagnostic use');
    expect(report.conclusion).toContain('Signed with 2 flagged cell(s) unreviewed; reason: two cells\nunclear | see note');

    const provenance = bundle.entry!.at(-1)!.resource as Provenance;
    const deviceUrl = bundle.entry![2]!.fullUrl;
    expect(provenance.agent).toEqual([
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'verifier' }] },
        role: [{ text: 'Consultant' }],
        who: { display: 'Dr A|B' },
      },
      { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'performer' }] }, who: { reference: deviceUrl } },
    ]);
    expect(provenance.target).toHaveLength(26);
    expect(bundle.entry![2]!.resource).toMatchObject({ resourceType: 'Device', modelNumber: 'marrowcount-ref', version: [{ value: '1.2.0' }] });
  });

  it('marks the report and every observation corrected for a corrected result', () => {
    const bundle = bundleOf({ resultStatus: 'C', correction: { by: 'Dr C', reason: 'recount', at: '2026-12-05T09:00:00.000Z' } });
    const statuses = bundle.entry!.flatMap((e) => ('status' in e.resource! ? [e.resource.status] : []));
    expect(new Set(statuses)).toEqual(new Set(['corrected']));
  });

  it('goes without presentedForm when there is no signed PDF, rather than with a draft', () => {
    const report = bundleOf({}, null).entry!.find((e) => e.resource!.resourceType === 'DiagnosticReport')!.resource as DiagnosticReport;
    expect(report.presentedForm).toBeUndefined();
  });

  it('is the same text every time it is built from the same result', () => {
    expect(JSON.stringify(bundleOf())).toBe(JSON.stringify(bundleOf()));
    expect(entryUuid('MC1', 'patient')).not.toBe(entryUuid('MC2', 'patient'));
  });
});
