// Paging through review scopes. In the 'unreviewed' scope a decided cell leaves the set on the server, so the
// next page starts after the cells of this page that are still undecided, not after the whole page; otherwise
// cells would be skipped without ever being shown.
import type { CellView } from '../../../shared/api';
import type { ReviewScope } from '../navigation/route';

export function nextPageOffset(scope: ReviewScope, offset: number, page: readonly Pick<CellView, 'decision'>[]): number {
  if (scope !== 'unreviewed') return offset + page.length;
  return offset + page.filter((cell) => cell.decision === null).length;
}

export function previousPageOffset(offset: number, pageSize: number): number {
  return Math.max(0, offset - pageSize);
}

/** Replaces cells by image id, keeping order; cells not on the page are ignored. */
export function replaceCells(page: readonly CellView[], updated: readonly CellView[]): CellView[] {
  const byId = new Map(updated.map((cell) => [cell.imageId, cell] as const));
  return page.map((cell) => byId.get(cell.imageId) ?? cell);
}
