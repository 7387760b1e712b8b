// Live updates from the lab server (server-sent events at /events): which case another station changed, so the
// screens showing it re-read it within moments. Only a station served by the lab server has them; the desktop app
// in local mode and the loopback test host have no /events, and then nothing is subscribed and nothing is shown.
// The event carries no patient data, only the case id and who changed it; the screens re-read through the API.

export interface LiveCaseChange {
  caseId: number;
  method: string;
  by: string;
  at: string;
}

/** 'idle': no live channel (local mode); 'connected'; 'lost': the server went away and the browser retries. */
export type LiveState = 'idle' | 'connected' | 'lost';

type CaseListener = (change: LiveCaseChange | null) => void;
const caseListeners = new Set<CaseListener>();
const stateListeners = new Set<(state: LiveState) => void>();
let source: EventSource | null = null;
let state: LiveState = 'idle';
let everConnected = false;

function setState(next: LiveState): void {
  if (next === state) return;
  state = next;
  for (const listener of stateListeners) listener(next);
}

function emit(change: LiveCaseChange | null): void {
  for (const listener of caseListeners) listener(change);
}

/** Opens the event stream once a person is logged in at a lab-server station; closes it at logout. */
export function setLiveSession(active: boolean): void {
  const isStation = typeof window !== 'undefined' && window.marrowcount === undefined && typeof EventSource !== 'undefined';
  if (!active || !isStation) {
    source?.close();
    source = null;
    setState('idle');
    return;
  }
  if (source !== null) return;
  source = new EventSource('/events');
  source.addEventListener('open', () => {
    const wasLost = state === 'lost';
    everConnected = true;
    setState('connected');
    // After an outage every case may have changed: screens re-read what they show.
    if (wasLost) emit(null);
  });
  source.addEventListener('error', () => {
    // A 404 (no lab server) closes the source for good; an outage keeps it retrying (retry: 1000 from the server).
    if (source?.readyState === EventSource.CLOSED) {
      source = null;
      setState(everConnected ? 'lost' : 'idle');
    } else if (everConnected) setState('lost');
  });
  source.addEventListener('case', (event) => emit(JSON.parse((event as MessageEvent<string>).data) as LiveCaseChange));
  source.addEventListener('cases', () => emit(null));
}

/** Calls `listener` for each change of a case (null: anything may have changed, e.g. after reconnecting). */
export function onLiveCaseChange(listener: CaseListener): () => void {
  caseListeners.add(listener);
  return () => caseListeners.delete(listener);
}

export function onLiveState(listener: (state: LiveState) => void): () => void {
  stateListeners.add(listener);
  listener(state);
  return () => stateListeners.delete(listener);
}
