// The service is assembled from areas (cases, analysis, review, …), each implementing some methods of the contract.
// Like Actual Budget's `app.combine`, merging refuses a method that two areas define: a spread would let the later
// one win silently, and the earlier area's rules (its guards, its errors) would stop applying without a sign.
import type { MarrowApi } from '../../shared/api';

/**
 * What an area returns: methods of the contract and nothing else. Areas write `return { … } satisfies ServiceArea`,
 * so a misspelt or unknown method fails to compile, and the parameters take the contract's types.
 */
export type ServiceArea = Partial<MarrowApi>;

type Intersection<T extends readonly object[]> = T extends readonly [infer First, ...infer Rest extends readonly object[]]
  ? First & Intersection<Rest>
  : unknown;

export class DuplicateMethodError extends Error {
  constructor(readonly method: string) {
    super(`The service method ${method} is defined by two service areas; each method has one home.`);
    this.name = 'DuplicateMethodError';
  }
}

/** The areas' methods in one object; throws DuplicateMethodError when a name is defined twice. */
export function combineAreas<T extends readonly object[]>(...areas: T): Intersection<T> {
  const combined: Record<string, unknown> = {};
  for (const area of areas) {
    for (const [name, value] of Object.entries(area)) {
      if (Object.prototype.hasOwnProperty.call(combined, name)) throw new DuplicateMethodError(name);
      combined[name] = value;
    }
  }
  return combined as Intersection<T>;
}
