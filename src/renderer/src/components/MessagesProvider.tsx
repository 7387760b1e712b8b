import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { errorDetail, errorText, MessagesContext, type Messages } from './messages';

interface ShownError {
  id: number;
  text: string;
  detail: string | null;
}

const NOTICE_MS = 4000;

export function MessagesProvider({ children }: { children: ReactNode }) {
  const [errors, setErrors] = useState<ShownError[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const nextId = useRef(1);
  const noticeTimer = useRef<number | undefined>(undefined);

  const reportError = useCallback((error: unknown, context?: string) => {
    // Logged as well as shown: the banner can be dismissed, the console keeps the stack for a bug report.
    console.error(context ?? 'Error', error);
    const text = context !== undefined ? `${context}: ${errorText(error)}` : errorText(error);
    const detail = errorDetail(error);
    const id = nextId.current++;
    // The same failure repeated (a polling error) is shown once.
    setErrors((current) => (current.some((shown) => shown.text === text) ? current : [...current, { id, text, detail }]));
  }, []);

  const notify = useCallback((text: string) => {
    window.clearTimeout(noticeTimer.current);
    setNotice(text);
    noticeTimer.current = window.setTimeout(() => setNotice(null), NOTICE_MS);
  }, []);

  // A notice is about the screen it was raised on ("Nothing to undo."): moving to another screen takes it away.
  useEffect(() => {
    const clear = () => {
      window.clearTimeout(noticeTimer.current);
      setNotice(null);
    };
    window.addEventListener('hashchange', clear);
    return () => window.removeEventListener('hashchange', clear);
  }, []);

  const messages = useMemo<Messages>(() => ({ reportError, notify }), [reportError, notify]);

  return (
    <MessagesContext.Provider value={messages}>
      {errors.length > 0 && (
        <div className="banner-stack">
          {errors.map((error) => (
            <div key={error.id} className="banner banner-error" role="alert" data-testid="error-banner">
              <span className="banner-text" data-testid="error-banner-message">
                {error.text}
                {error.detail !== null && <span className="banner-detail">{error.detail}</span>}
              </span>
              <button
                type="button"
                className="button-quiet"
                data-testid="error-banner-dismiss"
                onClick={() => setErrors((current) => current.filter((shown) => shown.id !== error.id))}
              >
                Dismiss
              </button>
            </div>
          ))}
        </div>
      )}
      {notice !== null && (
        <div className="notice" role="status" data-testid="notice">
          {notice}
        </div>
      )}
      {children}
    </MessagesContext.Provider>
  );
}
