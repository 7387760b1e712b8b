// The `marrowcell:` protocol through which the renderer loads cell images in Electron. It must be declared
// privileged before the app is ready (standard URLs, treated as secure so the CSP may name it) and is handled once
// the app is ready; resolution is shared with the HTTP host (resolve-cell-image.ts).
import { protocol } from 'electron';
import { CELL_PROTOCOL } from '../../shared/shell';
import type { CellImageLookup } from './resolve-cell-image';
import { resolveCellImage } from './resolve-cell-image';

/** Host part of every cell URL: marrowcell://cell/<caseId>/<imageId>. */
export const CELL_HOST = 'cell';

export function cellImageUrl(caseId: number, imageId: number): string {
  return `${CELL_PROTOCOL}://${CELL_HOST}/${caseId}/${imageId}`;
}

/** Call before app 'ready'. */
export function registerCellSchemeAsPrivileged(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: CELL_PROTOCOL, privileges: { standard: true, secure: true, supportFetchAPI: false, corsEnabled: false, stream: false } },
  ]);
}

export function handleCellProtocol(lookup: CellImageLookup): void {
  protocol.handle(CELL_PROTOCOL, async (request) => {
    const url = new URL(request.url);
    if (request.method !== 'GET' || url.host !== CELL_HOST || url.search !== '') return new Response('Not found', { status: 404 });
    const resolution = await resolveCellImage(lookup, url.pathname.slice(1));
    if (!resolution.ok) return new Response(resolution.status === 404 ? 'Not found' : 'Forbidden', { status: resolution.status });
    return new Response(resolution.data, {
      status: 200,
      headers: { 'Content-Type': resolution.contentType, 'X-Content-Type-Options': 'nosniff' },
    });
  });
}
