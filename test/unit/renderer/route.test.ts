import { describe, expect, it } from 'vitest';
import { parseRoute, reviewRoute, routeToHash, type Route } from '../../../src/renderer/src/navigation/route';

describe('hash routes', () => {
  it('opens the case list for an empty or unknown hash', () => {
    expect(parseRoute('')).toEqual({ screen: 'cases' });
    expect(parseRoute('#/nowhere')).toEqual({ screen: 'cases' });
    expect(parseRoute('#/case/0/review')).toEqual({ screen: 'cases' });
    expect(parseRoute('#/case/abc')).toEqual({ screen: 'cases' });
  });

  it('parses the case tabs, defaulting to the differential', () => {
    expect(parseRoute('#/case/12/analysis')).toEqual({ screen: 'case', caseId: 12, tab: 'analysis' });
    expect(parseRoute('#/case/12')).toEqual({ screen: 'case', caseId: 12, tab: 'differential' });
    expect(parseRoute('#/case/12/signoff')).toEqual({ screen: 'case', caseId: 12, tab: 'signoff' });
  });

  it("opens a patient's history by identifier, and the list for a blank or malformed one", () => {
    expect(parseRoute('#/patient/MRN-0042')).toEqual({ screen: 'patient', labId: 'MRN-0042' });
    expect(parseRoute('#/patient/%20')).toEqual({ screen: 'cases' });
    expect(parseRoute('#/patient/%E0%A4%A')).toEqual({ screen: 'cases' });
  });

  it('parses review scope and class, ignoring values that are not valid', () => {
    expect(parseRoute('#/case/3/review?scope=all&class=BLA')).toEqual(reviewRoute(3, 'all', 'BLA'));
    expect(parseRoute('#/case/3/review?scope=bogus&class=XYZ')).toEqual(reviewRoute(3, 'unreviewed', null));
  });

  it('round-trips every kind of route', () => {
    const routes: Route[] = [
      { screen: 'cases' },
      { screen: 'new-case' },
      { screen: 'lab-model' },
      { screen: 'patient', labId: 'MRN-0042' },
      { screen: 'patient', labId: 'MRN 7/b?x#1' },
      { screen: 'case', caseId: 7, tab: 'analysis' },
      { screen: 'case', caseId: 7, tab: 'signoff' },
      reviewRoute(7),
      reviewRoute(7, 'flagged', 'PMO'),
      reviewRoute(7, 'all', 'KSC'),
    ];
    for (const route of routes) expect(parseRoute(routeToHash(route))).toEqual(route);
  });
});
