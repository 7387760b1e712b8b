// A stopped analysis in the API's shape (src/shared/case-lifecycle.ts PartialResult), read by the case views, the
// report, the exports and the CLI so that all of them call the same result partial.
import type { PartialResult } from '../../shared/api';
import type { CaseRow } from '../db';
import type { Repositories } from '../db/contract';

/** The case's partial result, or null when it is complete. */
export async function partialResultOf(repos: Repositories, row: CaseRow): Promise<PartialResult | null> {
  const partial = await repos.partialAnalysis.partialAnalysisOf(row);
  if (partial === null) return null;
  const { cancellation, exclusion } = partial;
  return {
    filesAnalysed: cancellation.filesAnalysed,
    filesTotal: cancellation.filesTotal,
    cancelledBy: cancellation.by,
    cancelledAt: cancellation.at,
    exclusion: exclusion === null ? null : { filesExcluded: exclusion.filesExcluded, reason: exclusion.reason, by: exclusion.by, at: exclusion.at },
  };
}
