import { useState, type FormEvent } from 'react';
import { getShell } from '../api';

/**
 * The desktop app's way to become a station of a lab server (beside its own local database). Shown only where the
 * desktop shell exists; a browser is already a station of whichever server it opened.
 */
export function ConnectToServer() {
  const shell = getShell();
  const [open, setOpen] = useState(false);
  const [url, setUrl] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  if (shell === undefined) return null;

  const connect = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    void shell.connectToServer(url).then(
      (answer) => {
        // On success the app restarts as a station; nothing more happens in this window.
        if (!answer.ok) {
          setProblem(answer.message);
          setBusy(false);
        }
      },
      (e: unknown) => {
        setProblem(e instanceof Error ? e.message : String(e));
        setBusy(false);
      },
    );
  };

  if (!open) {
    return (
      <p className="gate-alt">
        Working on this computer&apos;s own database.{' '}
        <button type="button" className="link-button" data-testid="connect-server-open" onClick={() => setOpen(true)}>
          Connect to a lab server instead…
        </button>
      </p>
    );
  }
  return (
    <form className="gate-box form gate-connect" onSubmit={connect} data-testid="connect-server-form">
      <h2>Connect to a lab server</h2>
      <p className="small">
        This computer becomes a review station of the lab&apos;s server: cases, decisions and signatures are kept there, not here. MarrowCount restarts and
        shows the server&apos;s login. On the first connection it shows the server&apos;s certificate fingerprint: compare it with the one IT gave you before
        trusting it. File ▸ Use This Computer (Local Mode) comes back here.
      </p>
      <label className="field">
        <span className="field-label">Server address</span>
        <input value={url} placeholder="https://marrow.lab.local:8443" data-testid="connect-server-url" onChange={(e) => setUrl(e.target.value)} />
      </label>
      {problem !== null && (
        <p className="form-error" role="alert" data-testid="connect-server-error">
          {problem}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="button-primary" disabled={busy || url.trim() === ''} data-testid="connect-server-submit">
          Connect and restart
        </button>
        <button type="button" disabled={busy} onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
