// Login attempts per station address and per login name, counted in a sliding window. The accounts' lockout
// (5 wrong passwords lock the account) protects one account; this also stops one station trying many accounts
// (password spraying) and keeps the password hash's deliberate cost from being a way to load the server.
export interface RateLimit {
  /** Attempts allowed per window. */
  max: number;
  windowMs: number;
}

export class SlidingWindowLimiter {
  private readonly attempts = new Map<string, number[]>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records an attempt for `key`; returns 0 when allowed, else the milliseconds until the next is allowed. */
  take(key: string): number {
    const now = this.now();
    const recent = (this.attempts.get(key) ?? []).filter((t) => now - t < this.limit.windowMs);
    if (recent.length >= this.limit.max) {
      this.attempts.set(key, recent);
      return this.limit.windowMs - (now - recent[0]!);
    }
    recent.push(now);
    this.attempts.set(key, recent);
    if (this.attempts.size > 10_000) this.prune(now);
    return 0;
  }

  /** Bounds memory when many keys are tried (a scan): drops keys with no attempt in the window. */
  private prune(now: number): void {
    for (const [key, times] of this.attempts) if (times.every((t) => now - t >= this.limit.windowMs)) this.attempts.delete(key);
  }
}
