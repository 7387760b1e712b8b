// Live updates for stations: server-sent events. After a call that changes a case (a decision, a signature, an
// analysis started) the server tells every connected station which case changed, by whom, so that another
// station refreshes that case within moments instead of showing a stale count. The event carries no patient data:
// a station re-reads the case through the API, with its own session and role checks.
import type { ServerResponse } from 'node:http';
import type { MarrowApiMethod } from '../../shared/api';

export interface CaseChangeEvent {
  caseId: number;
  /** The API method that changed it, e.g. reviewCell, authoriseCase. */
  method: MarrowApiMethod;
  /** Display name of the person who made the change. */
  by: string;
  at: string;
}

/** Methods that change a case, and how to find the case in their arguments. */
const CASE_CHANGING: Partial<Record<MarrowApiMethod, (args: unknown[]) => unknown>> = {
  reviewCell: (a) => (a[0] as { caseId?: unknown } | undefined)?.caseId,
  confirmCells: (a) => (a[0] as { caseId?: unknown } | undefined)?.caseId,
  undoReview: (a) => (a[0] as { caseId?: unknown } | undefined)?.caseId,
  submitCase: (a) => (a[0] as { caseId?: unknown } | undefined)?.caseId,
  authoriseCase: (a) => (a[0] as { caseId?: unknown } | undefined)?.caseId,
  amendCase: (a) => (a[0] as { caseId?: unknown } | undefined)?.caseId,
  startAnalysis: (a) => a[0],
  cancelAnalysis: (a) => a[0],
  analyseWithLabModel: (a) => (a[0] as { caseId?: unknown } | undefined)?.caseId,
  resendToLis: (a) => a[0],
};

/** The case a successful call changed, or null when the method changes none. */
export function changedCaseOf(method: MarrowApiMethod, args: unknown): number | null {
  const find = CASE_CHANGING[method];
  if (find === undefined || !Array.isArray(args)) return null;
  const id = find(args);
  return typeof id === 'number' && Number.isInteger(id) ? id : null;
}

/** Methods that create a case: every station's case list changes. */
export function createsCase(method: MarrowApiMethod): boolean {
  return method === 'createCase';
}

export class LiveEvents {
  private readonly streams = new Set<ServerResponse>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(heartbeatMs = 15_000) {
    // A comment line now and then keeps proxies from closing an idle stream and lets a station notice a dead one.
    this.heartbeat = setInterval(() => {
      for (const stream of this.streams) stream.write(': keep-alive\n\n');
    }, heartbeatMs);
    this.heartbeat.unref();
  }

  /** Starts an event stream on `response` (the session has been checked by the caller). */
  open(response: ServerResponse): void {
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    // retry: a station reconnects after a server restart within a second.
    response.write('retry: 1000\n: connected\n\n');
    this.streams.add(response);
    response.on('close', () => this.streams.delete(response));
  }

  get connected(): number {
    return this.streams.size;
  }

  publishCaseChange(event: CaseChangeEvent): void {
    this.send('case', event);
  }

  publishCaseListChange(by: string): void {
    this.send('cases', { by, at: new Date().toISOString() });
  }

  private send(type: string, data: unknown): void {
    const frame = `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const stream of this.streams) stream.write(frame);
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const stream of this.streams) stream.end();
    this.streams.clear();
  }
}
