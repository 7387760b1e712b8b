// Times one scrypt hash and one verification at several costs on this machine (README: Users and roles).
import { hashPassword, verifyPassword } from '../src/main/security/password';
for (const log2N of [14, 15, 16, 17]) {
  const t0 = performance.now();
  const h = await hashPassword('correct horse battery', { log2N, r: 8, p: 1 });
  const t1 = performance.now();
  await verifyPassword('correct horse battery', h);
  const t2 = performance.now();
  console.log(`N=2^${log2N}: hash ${(t1 - t0).toFixed(0)} ms, verify ${(t2 - t1).toFixed(0)} ms`);
}
