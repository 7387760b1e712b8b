// The lab model (issue 14): train a head on the lab's reviewed cells of signed cases, read its validation beside the
// base model on held-out cases, approve it (name, role, reason; warned when it scores below the base model), re-analyse
// a case with it, retire it, save its model card, export it, or import one exported on another PC. Talks only to the
// API; every rule (what may be trained, approved, used) is in main, and the below-base warning in src/shared.
import { useEffect, useState, type FormEvent } from 'react';
import type { LabModelDetail, LabModelSummary, LabModelTrainingProgress, LabTrainingMaterial } from '../../../shared/api';
import { CELL_CLASSES } from '../../../shared/cell-classes';
import { labModelBelowBaseWarning, labModelScoresBelowBase } from '../../../shared/lab-training';
import { getApi } from '../api';
import { ProgressBar } from '../components/ProgressBar';
import { errorText, useMessages } from '../components/messages';
import { formatDateTime } from '../format';
import { useApiAction } from '../hooks/useApiAction';
import { useApiQuery } from '../hooks/useApiQuery';
import { useSession } from '../hooks/session';
import { FormError } from '../components/FormError';

const f2 = (x: number): string => x.toFixed(2);
const f3 = (x: number): string => x.toFixed(3);

interface Props {
  onOpenCase: (caseId: number) => void;
}

/**
 * What a lab model could learn from now, before anyone presses Train: signed cases, reviewed cells per class and what
 * is missing. The numbers are the service's own training plan (the same split), so "learned" here is what Train does.
 */
function TrainingMaterial({ material }: { material: LabTrainingMaterial }) {
  return (
    <div className={material.missing.length > 0 ? 'panel panel-warning' : 'panel'} data-testid="lab-material">
      <h2>What there is to learn from</h2>
      <p data-testid="lab-material-summary">
        {material.signedCasesWithReviewedCells} signed {material.signedCasesWithReviewedCells === 1 ? 'case' : 'cases'} with reviewed cells
        {material.baseModel !== null && ` analysed with ${material.baseModel.modelId} ${material.baseModel.version}`}: {material.reviewedCells} reviewed cells.
        {material.reviewedInUnsignedCases > 0 && ` ${material.reviewedInUnsignedCases} more reviewed cells are in cases not signed yet and are not used.`}
      </p>
      {material.missing.length > 0 ? (
        <ul className="warning-list" data-testid="lab-material-missing">
          {material.missing.map((text) => (
            <li key={text}>{text}</li>
          ))}
        </ul>
      ) : (
        <p className="small" data-testid="lab-material-ready">
          Enough to train: {material.classes.filter((c) => c.learned).length} classes reach the minimum of {material.minimumPerClass} reviewed cells in the
          training cases.
        </p>
      )}
      {material.classes.length > 0 && (
        <table className="table table-compact" data-testid="lab-material-classes">
          <thead>
            <tr>
              <th>Class</th>
              <th className="num">Reviewed cells</th>
              <th className="num">In the training cases</th>
              <th>Learned</th>
            </tr>
          </thead>
          <tbody>
            {material.classes.map((c) => (
              <tr key={c.code} data-testid={`lab-material-${c.code}`}>
                <td>
                  <span className="code">{c.code}</span> {CELL_CLASSES[c.code].name}
                </td>
                <td className="num">{c.cells}</td>
                <td className="num">{c.inTrainingFold ?? '—'}</td>
                <td>{c.learned ? 'yes' : c.inTrainingFold === null ? '—' : `no: ${material.minimumPerClass - c.inTrainingFold} more in the training cases`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function LabModelScreen({ onOpenCase }: Props) {
  const { user } = useSession();
  const { notify } = useMessages();
  const models = useApiQuery(() => getApi().listLabModels(), 'lab-models', 'Loading the lab models');
  const [selected, setSelected] = useState<number | null>(null);
  const [progress, setProgress] = useState<LabModelTrainingProgress | null>(null);
  const [trainError, setTrainError] = useState<string | null>(null);
  const [minimum, setMinimum] = useState('30');
  const training = progress?.phase === 'training';
  const reload = models.reload;
  const minimumNumber = /^\d+$/.test(minimum) && Number(minimum) >= 5 ? Number(minimum) : 30;
  const material = useApiQuery(
    () => getApi().getLabTrainingMaterial({ minimumPerClass: minimumNumber }),
    `lab-material-${minimumNumber}`,
    'Reading what a lab model could learn from',
  );

  useEffect(() => {
    if (!training) return undefined;
    const timer = setInterval(() => {
      void getApi()
        .getLabModelTrainingProgress()
        .then((p) => {
          if (p === null) return;
          setProgress(p);
          if (p.phase === 'done' && p.labModelId !== null) {
            setSelected(p.labModelId);
            notify('The lab model is trained and waits for approval.');
            void reload();
          } else if (p.phase === 'failed') setTrainError(p.message);
        })
        .catch((error: unknown) => setTrainError(errorText(error)));
    }, 300);
    return () => clearInterval(timer);
  }, [training, notify, reload]);

  const train = async (event: FormEvent) => {
    event.preventDefault();
    setTrainError(null);
    try {
      setProgress(await getApi().trainLabModel({ minimumPerClass: Number(minimum) }));
    } catch (error) {
      setTrainError(errorText(error));
    }
  };

  const list = models.data ?? [];
  const shown = selected ?? list[0]?.id ?? null;

  return (
    <section className="screen" data-testid="lab-model-screen">
      <div className="screen-head">
        <h1>Lab model</h1>
      </div>
      <p className="muted">
        A lab model learns from this lab&rsquo;s own reviewed cells of signed cases (stored embeddings of the base model), is validated on cases it never
        trained on, and is used only after an explicit approval. Classes with fewer reviewed cells than the minimum are not learned: the lab model cannot call
        them, and cells the base model calls one of them are flagged for review.
      </p>
      {material.data !== null && <TrainingMaterial material={material.data} />}
      <form className="panel" onSubmit={(e) => void train(e)} data-testid="lab-train-form">
        <h2>Train a new lab model</h2>
        <div className="form-row">
          <p className="field" data-testid="lab-train-by">
            <span className="field-label">Trained by</span>
            {user.displayName}
          </p>
          <label className="field">
            <span className="field-label">Minimum reviewed cells per class</span>
            <input type="number" min={5} value={minimum} data-testid="lab-train-minimum" onChange={(e) => setMinimum(e.target.value)} />
          </label>
        </div>
        <div className="form-actions">
          <button type="submit" className="button-primary" disabled={training} data-testid="lab-train">
            Train
          </button>
          {training && (
            <button
              type="button"
              data-testid="lab-train-cancel"
              onClick={() =>
                void getApi()
                  .cancelLabModelTraining()
                  .catch((e: unknown) => setTrainError(errorText(e)))
              }
            >
              Cancel
            </button>
          )}
        </div>
        {progress !== null && (
          <div data-testid="lab-train-progress">
            <ProgressBar
              value={Math.round(progress.fraction * 100)}
              max={100}
              label="Training progress"
              testId="lab-train-bar"
              tone={progress.phase === 'done' ? 'done' : 'normal'}
            />
            <p className="muted small" data-testid="lab-train-status">
              {progress.phase === 'training' &&
                `Training on ${progress.cells} reviewed cells of ${progress.cases} signed cases… ${Math.round(progress.fraction * 100)}%`}
              {progress.phase === 'done' && `Trained on ${progress.cells} reviewed cells of ${progress.cases} cases in ${progress.seconds.toFixed(1)} s.`}
              {progress.phase === 'cancelled' && 'Training cancelled; nothing was stored.'}
              {progress.phase === 'failed' && 'Training failed.'}
            </p>
          </div>
        )}
        <FormError text={trainError} testId="lab-train-error" />
      </form>

      <ImportForm
        onImported={(id) => {
          setSelected(id);
          void reload();
        }}
      />

      {list.length === 0 ? (
        <p className="empty" data-testid="lab-models-empty">
          No lab model yet.
        </p>
      ) : (
        <table className="table table-clickable" data-testid="lab-models-table">
          <thead>
            <tr>
              <th>Version</th>
              <th>Status</th>
              <th>Classes</th>
              <th className="num">Macro-F1 lab</th>
              <th className="num">Macro-F1 base</th>
              <th>Trained</th>
            </tr>
          </thead>
          <tbody>
            {list.map((m: LabModelSummary) => (
              <tr
                key={m.id}
                className={m.id === shown ? 'row-selected' : undefined}
                data-testid={`lab-model-row-${m.version}`}
                onClick={() => setSelected(m.id)}
              >
                <td>{m.version}</td>
                <td data-testid={`lab-model-status-${m.version}`}>{m.status}</td>
                <td>{m.classes.join(', ')}</td>
                <td className="num">{f3(m.labMacroF1)}</td>
                <td className="num">{f3(m.baseMacroF1)}</td>
                <td>
                  {m.trainedBy}, {formatDateTime(m.trainedAt)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {shown !== null && <LabModelCard key={shown} labModelId={shown} onChanged={() => void reload()} onOpenCase={onOpenCase} />}
    </section>
  );
}

/** A package exported on another PC of the lab: stored pending, to be approved here. */
function ImportForm({ onImported }: { onImported: (labModelId: number) => void }) {
  const { notify } = useMessages();
  const [path, setPath] = useState('');
  const { busy, error, run } = useApiAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => {
      const imported = await getApi().importLabModel({ path });
      notify(`Lab model ${imported.version} imported; it waits for approval on this PC.`);
      onImported(imported.id);
    });
  };
  return (
    <form className="panel" onSubmit={(e) => void submit(e)} data-testid="lab-import-form">
      <h2>Import a lab model from another PC</h2>
      <div className="form-row">
        <label className="field">
          <span className="field-label">Package file (.json)</span>
          <input
            value={path}
            placeholder="/path/to/marrowcount-ref-lab-1.labmodel.json"
            data-testid="lab-import-path"
            onChange={(e) => setPath(e.target.value)}
          />
        </label>
      </div>
      <div className="form-actions">
        <button type="submit" disabled={busy || path.trim() === ''} data-testid="lab-import">
          Import
        </button>
      </div>
      <FormError text={error?.text} testId="lab-import-error" />
    </form>
  );
}

function LabModelCard({ labModelId, onChanged, onOpenCase }: { labModelId: number; onChanged: () => void; onOpenCase: (caseId: number) => void }) {
  const { user, may } = useSession();
  const { notify, reportError } = useMessages();
  const query = useApiQuery(() => getApi().getLabModel(labModelId), String(labModelId), 'Loading the lab model');
  const cases = useApiQuery(() => getApi().listCases({ status: 'in_review', limit: 500 }), 'in-review', 'Loading the cases in review');
  const [reason, setReason] = useState('');
  const [caseId, setCaseId] = useState('');
  const [saved, setSaved] = useState<string | null>(null);
  const action = useApiAction();
  const { busy } = action;
  const lab = query.data;
  if (lab === null) return null;
  const v = lab.validation;

  const act = (run: () => Promise<LabModelDetail | void>) =>
    action.run(async () => {
      await run();
      await query.reload();
      onChanged();
    });

  return (
    <div className="panel" data-testid="lab-model-card">
      <h2 data-testid="lab-model-title">{lab.name}</h2>
      <dl className="facts">
        <dt>Status</dt>
        <dd data-testid="lab-model-status">{lab.status}</dd>
        <dt>Base model</dt>
        <dd>
          {lab.baseModel.modelId} {lab.baseModel.version} <code className="small">{lab.baseModel.sha256.slice(0, 12)}…</code>
        </dd>
        <dt>Model SHA-256</dt>
        <dd>
          <code className="small">{lab.sha256}</code>
        </dd>
        <dt>Trained by</dt>
        <dd>
          {lab.trainedBy}, {formatDateTime(lab.trainedAt)}
          {lab.importedBy !== null && ` — imported by ${lab.importedBy}`}
        </dd>
        {lab.approvedBy !== null && (
          <>
            <dt>Approved by</dt>
            <dd data-testid="lab-model-approved-by">
              {lab.approvedBy} ({lab.approvedRole}), {formatDateTime(lab.approvedAt ?? '')}: {lab.approvedReason}
            </dd>
          </>
        )}
        {lab.retiredBy !== null && (
          <>
            <dt>Retired by</dt>
            <dd>
              {lab.retiredBy}, {formatDateTime(lab.retiredAt ?? '')}: {lab.retiredReason}
            </dd>
          </>
        )}
        <dt>Cases</dt>
        <dd>{lab.cases.map((c) => `${c.accession} (${c.fold}, ${c.cells})`).join(', ')}</dd>
      </dl>

      <h3>Held-out cases: lab model beside the base model, on the same cells</h3>
      <p data-testid="lab-model-summary">
        {v.lab.cells} test cells of {v.folds.filter((f) => f.fold === 'test').length} case(s)
        {v.testCellsOfUnlearnedClasses > 0 &&
          ` (+${v.testCellsOfUnlearnedClasses} of classes not learned: in no recall, but against the precision of what they were called)`}
        . Macro-F1: lab <strong>{f3(v.lab.macroF1)}</strong>, base <strong>{f3(v.base.macroF1)}</strong>. Accuracy: lab {f3(v.lab.accuracy)}, base{' '}
        {f3(v.base.accuracy)}.
      </p>
      <table className="table" data-testid="lab-comparison">
        <thead>
          <tr>
            <th>Class</th>
            <th className="num">Train</th>
            <th className="num">Test</th>
            <th className="num">Base P</th>
            <th className="num">Base R</th>
            <th className="num">Base F1</th>
            <th className="num">Lab P</th>
            <th className="num">Lab R</th>
            <th className="num">Lab F1</th>
          </tr>
        </thead>
        <tbody>
          {v.lab.perClass.map((m, i) => {
            const b = v.base.perClass[i]!;
            return (
              <tr key={m.code} data-testid={`lab-comparison-${m.code}`}>
                <td>{m.code}</td>
                <td className="num">{v.classes.find((c) => c.code === m.code)?.train ?? 0}</td>
                <td className="num">{m.support}</td>
                <td className="num">{f2(b.precision)}</td>
                <td className="num">{f2(b.recall)}</td>
                <td className="num">{f2(b.f1)}</td>
                <td className="num">{f2(m.precision)}</td>
                <td className="num">{f2(m.recall)}</td>
                <td className="num">{f2(m.f1)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <h3>Confusion matrix of the lab model (rows: reviewed label)</h3>
      <table className="table" data-testid="lab-confusion">
        <thead>
          <tr>
            <th />
            {v.lab.classes.map((c) => (
              <th key={c} className="num">
                {c}
              </th>
            ))}
            <th className="num">other</th>
          </tr>
        </thead>
        <tbody>
          {v.lab.confusion.map((row, t) => (
            <tr key={v.lab.classes[t] ?? 'other'}>
              <td>{v.lab.classes[t] ?? 'other (not learned)'}</td>
              {row.map((n, p) => (
                <td key={p} className="num">
                  {n}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted small">
        Temperature {f2(v.calibration.temperature)} fitted on {v.calibration.fittedOnCells} cells of the calibration case(s); ECE on the test cells{' '}
        {f3(v.calibration.eceBefore)} → {f3(v.calibration.eceAfter)} (base {f3(v.calibration.baseEce)}).
        {v.openSet !== null &&
          ` Open-set flag (distance > ${v.openSet.threshold.toFixed(1)}): ${(100 * v.openSet.flaggedShare).toFixed(1)}% of the test cells.`}
      </p>

      {lab.status === 'pending' && (
        <form
          className="panel"
          data-testid="lab-approve-form"
          onSubmit={(e) => {
            e.preventDefault();
            void act(() => getApi().approveLabModel({ labModelId: lab.id, reason }));
          }}
        >
          <h3>Approve for use</h3>
          {labModelScoresBelowBase(v) && (
            <p className="panel panel-warning small" data-testid="lab-approve-worse">
              {labModelBelowBaseWarning(v)} Approve it only if the reason below says why.
            </p>
          )}
          <p data-testid="lab-approve-name">
            {may('approveLabModel')
              ? `Approving as ${user.displayName} (Pathologist).`
              : `Only a pathologist approves a lab model; ${user.displayName} is not one.`}
          </p>
          <label className="field">
            <span className="field-label">Reason</span>
            <input value={reason} data-testid="lab-approve-reason" onChange={(e) => setReason(e.target.value)} />
          </label>
          <div className="form-actions">
            <button type="submit" className="button-primary" disabled={busy} data-testid="lab-approve">
              Approve
            </button>
          </div>
        </form>
      )}

      {lab.status === 'approved' && (
        <div className="panel" data-testid="lab-use">
          <h3>Re-analyse a case with {lab.version}</h3>
          <div className="form-row">
            <label className="field">
              <span className="field-label">Case in review</span>
              <select value={caseId} data-testid="lab-use-case" onChange={(e) => setCaseId(e.target.value)}>
                <option value="">Choose a case</option>
                {(cases.data ?? []).map((c) => (
                  <option key={c.id} value={String(c.id)}>
                    {c.accession} ({c.patientLabId})
                  </option>
                ))}
              </select>
            </label>
          </div>
          <div className="form-actions">
            <button
              type="button"
              className="button-primary"
              disabled={busy || caseId === ''}
              data-testid="lab-use-run"
              onClick={() =>
                void act(async () => {
                  const detail = await getApi().analyseWithLabModel({ caseId: Number(caseId), labModelId: lab.id });
                  notify(`Case ${detail.accession} re-analysed with ${lab.version}.`);
                  onOpenCase(detail.id);
                })
              }
            >
              Re-analyse
            </button>
          </div>
          <h3>Retire</h3>
          <div className="form-row">
            <label className="field">
              <span className="field-label">Reason for retiring</span>
              <input value={reason} data-testid="lab-retire-reason" onChange={(e) => setReason(e.target.value)} />
            </label>
          </div>
          <div className="form-actions">
            <button
              type="button"
              disabled={busy}
              data-testid="lab-retire"
              onClick={() => void act(() => getApi().retireLabModel({ labModelId: lab.id, reason }))}
            >
              Retire
            </button>
          </div>
        </div>
      )}

      <div className="form-actions">
        <button
          type="button"
          disabled={busy}
          data-testid="lab-card-pdf"
          onClick={() =>
            void getApi()
              .saveLabModelCard({ labModelId: lab.id })
              .then((f) => setSaved(f.path))
              .catch((e: unknown) => reportError(e, 'Saving the model card'))
          }
        >
          Save model card (PDF)
        </button>
        <button
          type="button"
          disabled={busy}
          data-testid="lab-export"
          onClick={() =>
            void getApi()
              .exportLabModel({ labModelId: lab.id })
              .then((f) => setSaved(f.path))
              .catch((e: unknown) => reportError(e, 'Exporting the lab model'))
          }
        >
          Export package
        </button>
      </div>
      {saved !== null && (
        <p className="saved-path">
          Saved: <code data-testid="lab-saved-path">{saved}</code>
        </p>
      )}
      <FormError text={action.error?.text} testId="lab-model-error" />
    </div>
  );
}
