import { getApi } from '../api';
import { HistoryChart } from '../components/HistoryChart';
import { Loading } from '../components/Loading';
import { useApiQuery } from '../hooks/useApiQuery';
import { specimenGroupOf } from '../../../shared/marrow-history';
import { MarrowTable } from './MarrowTable';

interface Props {
  labId: string;
  onOpenCase: (caseId: number) => void;
}

/** Every case of one patient by specimen date: the blast trend of the marrows, and a table of all the cases. */
export function PatientScreen({ labId, onOpenCase }: Props) {
  const query = useApiQuery(() => getApi().getPatientHistory({ patientLabId: labId }), labId, `Loading the history of patient ${labId}`);
  const history = query.data;
  if (history === null || history.patient.labId !== labId) {
    if (query.loading) return <Loading what="the patient's history" />;
    return <p className="empty">The history of patient {labId} could not be loaded.</p>;
  }
  const marrows = history.marrows.filter((m) => specimenGroupOf(m.specimen) === 'marrow');
  const released = history.marrows.filter((m) => m.state !== 'draft').length;
  const drafts = history.marrows.length - released;

  return (
    <section className="screen patient-screen" data-testid="patient-screen">
      <div className="screen-head">
        <h2 data-testid="patient-heading">
          Patient {history.patient.labId}
          {history.patient.name !== null && <span className="muted"> · {history.patient.name}</span>}
          {history.patient.birthDate !== null && <span className="muted"> · born {history.patient.birthDate}</span>}
        </h2>
      </div>
      <p className="muted" data-testid="patient-summary">
        {history.marrows.length} {history.marrows.length === 1 ? 'case' : 'cases'} by specimen date: {released} released
        {drafts > 0 ? `, ${drafts} not released (drafts, drawn apart)` : ''}. Only released results are history; an amended result shows its latest released
        version.
      </p>
      {marrows.some((m) => (m.figures?.blast.percentage ?? null) !== null) ? (
        <div className="panel">
          <h3>Bone marrow blasts over time</h3>
          <HistoryChart marrows={marrows} testId="patient-blast-chart" />
          <p className="muted small">
            Band: 95% interval of each released count (Wilson). Diamonds: results amended since first released; hollow: amended and back in review (last
            released value). Grey hollow points: drafts, not released. Dashed: 5, 10 and 20% blasts.
          </p>
        </div>
      ) : (
        <p className="empty" data-testid="patient-no-chart">
          No bone marrow of this patient has a blast count yet.
        </p>
      )}
      <div className="panel">
        <h3>All cases</h3>
        <MarrowTable marrows={history.marrows} testId="patient-history" onOpen={onOpenCase} />
        <p className="muted small">* a class of this lineage was not assessed by the model; hover for which.</p>
      </div>
    </section>
  );
}
