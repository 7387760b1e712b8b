// The content hash by which an imported image is recognised: when it is imported, when a re-run reads it again and
// when it is shown for review (the bytes shown must be the bytes that were classified).
import { createHash } from 'node:crypto';

export function sha256Of(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
