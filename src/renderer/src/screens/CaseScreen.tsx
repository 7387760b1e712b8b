import { canDo, statusText } from '../../../shared/case-lifecycle';
import { PartialResultBanner } from '../components/PartialResultBanner';
import { SharedCropsNotice } from '../components/SharedCropsNotice';
import { useAnalysisWatch } from '../hooks/useAnalysisWatch';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { CaseDetail } from '../../../shared/api';
import { getApi } from '../api';
import { Loading } from '../components/Loading';
import { useMessages } from '../components/messages';
import { StatusBadge } from '../components/StatusBadge';
import { SPECIMEN_LABELS } from '../format';
import { useApiQuery } from '../hooks/useApiQuery';
import { useLiveCase } from '../hooks/useLive';
import { caseRoute, reviewRoute, routeToHash, type CaseTab, type Route } from '../navigation/route';
import { ErrorBoundary } from '../components/ErrorBoundary';
import { PreviousMarrowsPanel } from '../history/PreviousMarrowsPanel';
import { AnalysisScreen } from './AnalysisScreen';
import { DifferentialScreen } from './DifferentialScreen';
import { LisPanel } from './LisPanel';
import { PatientNameDialog } from './PatientNameDialog';
import { ReportPanel, useReportActions } from './ReportPanel';
import { ReviewScreen } from './ReviewScreen';
import { SignOffPanel } from './SignOffPanel';

export interface MenuRequest {
  command: 'save-report' | 'print';
  /** Increases with every request, so the same command twice runs twice. */
  sequence: number;
}

interface Props {
  route: Extract<Route, { screen: 'case' }>;
  navigate: (route: Route) => void;
  menuRequest: MenuRequest | null;
  /** Case the user just started analysing: its analysis screen moves on to the differential by itself. */
  followAnalysis: boolean;
  /** Called once the followed analysis has finished, so that revisiting the Analysis tab stays there. */
  onAnalysisFollowed: () => void;
}

const TABS: { tab: CaseTab; label: string }[] = [
  { tab: 'analysis', label: 'Analysis' },
  { tab: 'differential', label: 'Differential' },
  { tab: 'review', label: 'Review' },
  { tab: 'signoff', label: 'Sign-off & report' },
];

export function CaseScreen({ route, navigate, menuRequest, followAnalysis, onAnalysisFollowed }: Props) {
  const { caseId } = route;
  const query = useApiQuery(() => getApi().getCase(caseId), String(caseId), `Loading case ${caseId}`);
  const [override, setOverride] = useState<CaseDetail | null>(null);
  const detail = override !== null && override.id === caseId ? override : query.data;
  const reload = query.reload;
  // A case returned by sign-off or amendment is shown at once; it gives way only once a fresher load has arrived,
  // so the header never flashes back to the status from before.
  const refresh = useCallback(() => {
    void reload().then((fresh) => {
      if (fresh) setOverride(null);
    });
  }, [reload]);
  // Another station submitted, authorised or amended this case: its status and signatures follow.
  useLiveCase(caseId, refresh);

  if (detail === null || detail.id !== caseId) {
    if (query.loading) return <Loading what="the case" />;
    return (
      <div className="empty">
        <p>Case {caseId} could not be loaded.</p>
        <button type="button" data-testid="case-back-to-list" onClick={() => navigate({ screen: 'cases' })}>
          Back to the case list
        </button>
      </div>
    );
  }

  return (
    <CaseView
      detail={detail}
      route={route}
      navigate={navigate}
      menuRequest={menuRequest}
      followAnalysis={followAnalysis}
      onAnalysisFollowed={onAnalysisFollowed}
      refresh={refresh}
      replace={setOverride}
    />
  );
}

interface ViewProps extends Omit<Props, 'route'> {
  detail: CaseDetail;
  route: Extract<Route, { screen: 'case' }>;
  refresh: () => void;
  replace: (detail: CaseDetail) => void;
}

function CaseView({ detail, route, navigate, menuRequest, followAnalysis, onAnalysisFollowed, refresh, replace }: ViewProps) {
  const { notify, reportError } = useMessages();
  const report = useReportActions(detail);
  const handled = useRef(menuRequest?.sequence ?? 0);
  // Every tab but Analysis (which follows the run itself) learns here when the analysis ends.
  const progress = useAnalysisWatch(detail, route.tab !== 'analysis', refresh);
  const resume = () => {
    void getApi()
      .startAnalysis(detail.id)
      .then(() => {
        refresh();
        navigate(caseRoute(detail.id, 'analysis'));
      })
      .catch((error: unknown) => reportError(error, 'Resuming the analysis'));
  };
  const [correctingName, setCorrectingName] = useState(false);

  useEffect(() => {
    if (menuRequest === null || menuRequest.sequence === handled.current) return;
    handled.current = menuRequest.sequence;
    if (!canDo('report', detail).allowed) {
      notify('The analysis is still running; save the report when it is done.');
      return;
    }
    navigate(caseRoute(detail.id, 'signoff'));
    void (menuRequest.command === 'print' ? report.print() : report.savePdf());
  }, [menuRequest, detail, navigate, notify, report]);

  // The header is sticky; its height (it wraps on narrow windows) is published for what sticks below it (the
  // review's live bar) and for how far a selected tile must stay from the top.
  const header = useRef<HTMLElement>(null);
  useLayoutEffect(() => {
    const element = header.current;
    if (element === null) return undefined;
    const publish = () => document.documentElement.style.setProperty('--case-header-height', `${element.offsetHeight}px`);
    publish();
    if (typeof ResizeObserver === 'undefined') return undefined;
    const observer = new ResizeObserver(publish);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const goTab = (tab: CaseTab) => navigate(tab === 'review' ? reviewRoute(detail.id) : caseRoute(detail.id, tab));

  return (
    <div className="case">
      <header ref={header} className="case-header" data-testid="case-header">
        <div className="case-ident">
          <span className="case-patient" data-testid="case-header-patient">
            <a href={routeToHash({ screen: 'patient', labId: detail.patientLabId })} title="All cases of this patient" data-testid="case-header-patient-link">
              {detail.patientLabId}
            </a>
            {detail.patientName !== null && <span className="muted"> · {detail.patientName}</span>}
            {detail.patientBirthDate !== null && <span className="muted"> · born {detail.patientBirthDate}</span>}{' '}
            <button type="button" className="button-quiet" data-testid="case-correct-name" onClick={() => setCorrectingName(true)}>
              Correct name
            </button>
          </span>
          <span className="case-accession" data-testid="case-header-accession">
            Case {detail.accession}
          </span>
          <span className="muted" data-testid="case-header-specimen">
            {SPECIMEN_LABELS[detail.specimen]}
          </span>
          <StatusBadge status={detail.status} text={statusText(detail)} testId="case-status-badge" />
          {detail.amended && (
            <span className="badge badge-amended" data-testid="case-amended-badge" title="Amended after release">
              Amended
            </span>
          )}
          {detail.model !== null && (
            <span className="muted" data-testid="case-header-model">
              Model: {detail.model.name} {detail.model.version}
            </span>
          )}
          {detail.model?.researchOnly === true && <span className="badge badge-research">Research model — not for diagnosis</span>}
        </div>
        <nav className="tabs" aria-label="Case sections">
          {TABS.map(({ tab, label }) => (
            <button
              key={tab}
              type="button"
              className={route.tab === tab ? 'tab tab-active' : 'tab'}
              aria-current={route.tab === tab ? 'page' : undefined}
              data-testid={`case-tab-${tab}`}
              onClick={() => goTab(tab)}
            >
              {label}
              {tab === 'review' && detail.flaggedUnreviewed > 0 && <span className="tab-count">{detail.flaggedUnreviewed}</span>}
            </button>
          ))}
        </nav>
      </header>
      {/* The Analysis tab says the same itself, with its own Resume button. */}
      {route.tab !== 'analysis' && <PartialResultBanner detail={detail} onResume={resume} onChanged={replace} />}
      <SharedCropsNotice detail={detail} />
      {correctingName && <PatientNameDialog detail={detail} onClose={() => setCorrectingName(false)} onCorrected={replace} />}
      {/* A crash in one tab leaves the case header and tabs usable. */}
      <ErrorBoundary resetKey={routeToHash(route)}>
        {route.tab === 'analysis' && (
          <AnalysisScreen
            caseId={detail.id}
            detail={detail}
            autoAdvance={followAnalysis}
            onDone={() => {
              onAnalysisFollowed();
              navigate(caseRoute(detail.id, 'differential'));
            }}
            onPhaseChange={refresh}
          />
        )}
        {route.tab === 'differential' && (
          <>
            <DifferentialScreen
              // Counts are re-read whenever the case's status or version changes (an analysis ended, a decision).
              key={`${detail.status}-${detail.version}`}
              detail={detail}
              onOpenClass={(code) => navigate(reviewRoute(detail.id, 'all', code))}
              onReview={() => navigate(reviewRoute(detail.id))}
            />
            <PreviousMarrowsPanel
              caseId={detail.id}
              version={`${detail.status}:${detail.signedAt ?? ''}:${detail.cellCount}`}
              onOpenPatient={() => navigate({ screen: 'patient', labId: detail.patientLabId })}
              onOpenCase={(caseId) => navigate(caseRoute(caseId, 'differential'))}
            />
          </>
        )}
        {route.tab === 'review' && (
          <ReviewScreen
            // A new grid when the status changes (an analysis ended): never a grid that takes keys it must refuse.
            key={detail.status}
            detail={detail}
            analysisProgress={progress}
            scope={route.scope}
            cellClass={route.cellClass}
            onFilterChange={(scope, cellClass) => navigate(reviewRoute(detail.id, scope, cellClass))}
            onBack={() => navigate(caseRoute(detail.id, 'differential'))}
            onSignOff={() => navigate(caseRoute(detail.id, 'signoff'))}
            onCaseChanged={refresh}
          />
        )}
        {route.tab === 'signoff' && (
          <div className="screen signoff-screen" data-testid="signoff-screen">
            <SignOffPanel detail={detail} onChanged={replace} />
            <ReportPanel detail={detail} report={report} />
            <LisPanel detail={detail} />
          </div>
        )}
      </ErrorBoundary>
    </div>
  );
}
