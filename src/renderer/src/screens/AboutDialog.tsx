import { getApi } from '../api';
import { Dialog } from '../components/Dialog';
import { Loading } from '../components/Loading';
import { useApiQuery } from '../hooks/useApiQuery';

export function AboutDialog({ onClose }: { onClose: () => void }) {
  const about = useApiQuery(() => getApi().getAbout(), 'about', 'Loading the About information');
  const info = about.data;
  return (
    <Dialog title="About MarrowCount" testId="about-dialog" onClose={onClose} wide>
      {info === null ? (
        about.loading ? (
          <Loading what="version information" />
        ) : (
          <p>The version information could not be loaded.</p>
        )
      ) : (
        <>
          <dl className="facts">
            <dt>Application</dt>
            <dd data-testid="about-app-version">{info.appVersion}</dd>
            <dt>Counting rules</dt>
            <dd data-testid="about-rules-version">{info.rulesVersion}</dd>
            {info.model !== null ? (
              <>
                <dt>Model</dt>
                <dd>
                  <span data-testid="about-model-id">{info.model.id}</span> — {info.model.name}
                  {info.model.researchOnly && <strong className="research-only"> · research use only, not for diagnosis</strong>}
                </dd>
                <dt>Model version</dt>
                <dd data-testid="about-model-version">{info.model.version}</dd>
                <dt>Model SHA-256</dt>
                <dd>
                  <code className="hash" data-testid="about-model-hash">
                    {info.model.sha256}
                  </code>
                </dd>
                <dt>Classes</dt>
                <dd>{info.model.classes.join(', ')}</dd>
              </>
            ) : (
              <>
                <dt>Model</dt>
                <dd data-testid="about-model-id">No model loaded</dd>
              </>
            )}
            <dt>Database</dt>
            <dd>
              <code data-testid="about-database-path">{info.databasePath}</code>
            </dd>
          </dl>
          <h3>Data attributions</h3>
          <ul className="attributions" data-testid="about-attributions">
            {info.attributions.map((text) => (
              <li key={text}>{text}</li>
            ))}
          </ul>
          <h3>Model card</h3>
          {/* Shown as preformatted text: Markdown is readable as-is and needs no HTML rendering (no injection risk). */}
          <pre className="model-card" data-testid="about-model-card">
            {info.modelCard}
          </pre>
        </>
      )}
      <div className="form-actions">
        <button type="button" className="button-primary" data-testid="about-close" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
