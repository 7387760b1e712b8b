import { getApi } from '../api';
import { Loading } from '../components/Loading';
import { useApiQuery } from '../hooks/useApiQuery';
import { formatPoints, HISTORY_LINEAGE_NAMES, HISTORY_LINEAGES, type FractionComparison, type MarrowResult } from '../../../shared/marrow-history';
import { MarrowTable } from './MarrowTable';

interface Props {
  caseId: number;
  /** Changes whenever the case's count may have changed, so the comparison is fetched again. */
  version: string;
  onOpenPatient: () => void;
  onOpenCase: (caseId: number) => void;
}

const VERDICT_WORD: Readonly<Record<FractionComparison['verdict'], string>> = {
  higher: 'higher',
  lower: 'lower',
  not_distinguishable: 'not distinguishable',
};

const VERDICT_CLASS: Readonly<Record<FractionComparison['verdict'], string>> = {
  higher: 'comparison comparison-higher',
  lower: 'comparison comparison-lower',
  not_distinguishable: 'comparison comparison-same',
};

/** This case beside the patient's earlier released marrows, with each difference and its 95% interval in words. */
export function PreviousMarrowsPanel({ caseId, version, onOpenPatient, onOpenCase }: Props) {
  const query = useApiQuery(() => getApi().getCaseHistory(caseId), `${caseId}:${version}`, 'Loading the previous marrows');
  const history = query.data;
  if (history === null || history.caseId !== caseId) return query.loading ? <Loading what="the previous marrows" /> : null;
  const latest = history.comparisons[0];
  const blastOf = new Map(history.comparisons.map((c) => [c.earlier.caseId, c.blast]));

  return (
    <section className="panel previous-marrows" data-testid="previous-marrows">
      <div className="screen-head">
        <h3>Previous marrows</h3>
        <button type="button" data-testid="previous-open-patient" onClick={onOpenPatient}>
          All cases of patient {history.patient.labId}
        </button>
      </div>
      {history.previous.length === 0 ? (
        <p className="muted" data-testid="previous-none">
          No earlier released result of this patient to compare with.
        </p>
      ) : (
        <>
          {history.blastSentence !== null && latest?.blast && (
            <p className={VERDICT_CLASS[latest.blast.verdict]} data-testid="previous-blast-sentence">
              {history.blastSentence}
            </p>
          )}
          {latest !== undefined && (
            <ul className="comparison-list" data-testid="previous-lineage-comparisons">
              {HISTORY_LINEAGES.map((lineage) => {
                const c = latest.lineages[lineage];
                return (
                  <li key={lineage} data-testid={`previous-lineage-${lineage}`}>
                    <strong>{HISTORY_LINEAGE_NAMES[lineage]}:</strong>{' '}
                    {c === null ? <span className="muted">not compared (not assessed in both counts)</span> : c.text}
                  </li>
                );
              })}
            </ul>
          )}
          {history.current.state === 'draft' || history.current.state === 'reopened' ? (
            <p className="muted small">This case is not released: it is compared as it is counted now.</p>
          ) : null}
          <MarrowTable
            marrows={[history.current, ...history.previous] as MarrowResult[]}
            currentCaseId={caseId}
            testId="previous-table"
            showSpecimen={false}
            showLineages={false}
            onOpen={onOpenCase}
            extra={{
              heading: 'Blasts: this case − earlier, points (95% CI)',
              cell: (m) => {
                const c = blastOf.get(m.caseId);
                if (!c) return null;
                return (
                  <span className={VERDICT_CLASS[c.verdict]} title={c.text}>
                    {formatPoints(c.differencePoints)} ({formatPoints(c.ci95Points.lower)} to {formatPoints(c.ci95Points.upper)}) · {VERDICT_WORD[c.verdict]}
                  </span>
                );
              },
            }}
          />
        </>
      )}
    </section>
  );
}
