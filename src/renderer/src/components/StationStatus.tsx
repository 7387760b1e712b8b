import { useEffect, useRef } from 'react';
import { setLiveSession } from '../api/live';
import { useLiveState } from '../hooks/useLive';
import { useMessages } from './messages';

/**
 * At a lab-server station: which server this window works on (beside the person in the top bar), and a banner
 * while the connection is lost. In local mode it shows nothing. Mounted only while a person is logged in, so the
 * live channel opens with the session and closes at logout.
 */
export function StationStatus({ userId }: { userId: number }) {
  const state = useLiveState();
  const { notify } = useMessages();
  const previous = useRef(state);
  useEffect(() => {
    setLiveSession(true);
    return () => setLiveSession(false);
  }, [userId]);
  useEffect(() => {
    if (previous.current === 'lost' && state === 'connected')
      notify(`Reconnected to the lab server ${window.location.host}. The screen shows the server's data again.`);
    previous.current = state;
  }, [state, notify]);
  if (state === 'idle') return null;
  return (
    <>
      <span className={`topbar-server topbar-server-${state}`} data-testid="topbar-server" title="The lab server this station works on">
        Server {window.location.host}
      </span>
      {state === 'lost' && (
        <div className="connection-lost" role="alert" data-testid="connection-lost">
          The connection to the lab server {window.location.host} is lost; reconnecting. Decisions made now may not be saved: wait until this message goes.
        </div>
      )}
    </>
  );
}
