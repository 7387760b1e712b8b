// Hash-based navigation: the whole app state that should survive a reload (and that e2e tests can open directly)
// is in the URL hash. Pure functions so they can be unit-tested without a DOM.
import { CELL_SCOPES, type CellScope } from '../../../shared/api';
import { isCellClassCode, type CellClassCode } from '../../../shared/cell-classes';

export type CaseTab = 'analysis' | 'differential' | 'review' | 'signoff';
export type ReviewScope = CellScope;

export type Route =
  | { screen: 'cases' }
  | { screen: 'new-case' }
  | { screen: 'lab-model' }
  | { screen: 'patient'; labId: string }
  | { screen: 'case'; caseId: number; tab: 'analysis' | 'differential' | 'signoff' }
  | { screen: 'case'; caseId: number; tab: 'review'; scope: ReviewScope; cellClass: CellClassCode | null };

const TABS: readonly CaseTab[] = ['analysis', 'differential', 'review', 'signoff'];

export function parseRoute(hash: string): Route {
  const text = hash.startsWith('#') ? hash.slice(1) : hash;
  const [path = '', query = ''] = text.split('?', 2);
  const parts = path.split('/').filter((part) => part.length > 0);
  if (parts[0] === 'cases' && parts[1] === 'new') return { screen: 'new-case' };
  if (parts[0] === 'lab-model') return { screen: 'lab-model' };
  if (parts[0] === 'patient' && parts[1] !== undefined) {
    // A malformed escape is not a patient identifier: back to the list rather than a crash.
    try {
      const labId = decodeURIComponent(parts[1]).trim();
      if (labId !== '') return { screen: 'patient', labId };
    } catch {
      return { screen: 'cases' };
    }
  }
  if (parts[0] === 'case' && parts[1] !== undefined && /^[1-9][0-9]*$/.test(parts[1])) {
    const caseId = Number(parts[1]);
    const tab = TABS.find((candidate) => candidate === parts[2]) ?? 'differential';
    if (tab !== 'review') return { screen: 'case', caseId, tab };
    const params = new URLSearchParams(query);
    const scope = CELL_SCOPES.find((candidate) => candidate === params.get('scope')) ?? 'unreviewed';
    const cls = params.get('class');
    return { screen: 'case', caseId, tab, scope, cellClass: isCellClassCode(cls) ? cls : null };
  }
  return { screen: 'cases' };
}

export function routeToHash(route: Route): string {
  switch (route.screen) {
    case 'cases':
      return '#/cases';
    case 'new-case':
      return '#/cases/new';
    case 'lab-model':
      return '#/lab-model';
    case 'patient':
      return `#/patient/${encodeURIComponent(route.labId)}`;
    case 'case': {
      const base = `#/case/${route.caseId}/${route.tab}`;
      if (route.tab !== 'review') return base;
      const params = new URLSearchParams();
      if (route.scope !== 'unreviewed') params.set('scope', route.scope);
      if (route.cellClass !== null) params.set('class', route.cellClass);
      const query = params.toString();
      return query.length > 0 ? `${base}?${query}` : base;
    }
  }
}

export function caseRoute(caseId: number, tab: Exclude<CaseTab, 'review'>): Route {
  return { screen: 'case', caseId, tab };
}

export function reviewRoute(caseId: number, scope: ReviewScope = 'unreviewed', cellClass: CellClassCode | null = null): Route {
  return { screen: 'case', caseId, tab: 'review', scope, cellClass };
}
