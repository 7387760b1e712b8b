// The delivery loop: drops each queued message into the outbox folder and, where an MLLP receiver is configured,
// sends the HL7 messages to it in order, waiting for each ACK. The queue is the database (lis_deliveries), so a
// restart resumes where the last run stopped.
//
// What a crash can and cannot do. The state 'sending' is committed before the message is written to the socket and
// 'acknowledged' after its ACK arrives; a process killed between the two leaves 'sending', and the next run sends
// the message again with the same control id (MSH-10). So every message reaches the LIS at least once, and a
// repeat is always recognisable by its control id: MLLP has no way to learn whether a message whose ACK was lost
// was processed, so at-least-once with a stable id (the receiver discards an MSH-10 it has seen) is the guarantee
// HL7 v2 over MLLP allows. Outbox files are written under the control id with an atomic rename, so a repeat
// replaces the same file: exactly one file per message.
import { FileWriteError, writeAtomically } from '../files/write-atomically';
import { join } from 'node:path';
import type { LisFormat } from '../../shared/lis';
import type { LisDeliveryRow } from '../db';
import type { Store } from '../db/contract';
import { isAccepted, MllpTransportError, sendMllp } from './mllp';

export interface LisDeliveryOptions {
  /** Where messages go when the settings name no outbox folder. */
  defaultOutboxDir: string;
  /** Builds the messages of results signed but not yet built (the service renders their PDFs). */
  buildPending?: () => Promise<void>;
  connectTimeoutMs?: number;
  ackTimeoutMs?: number;
  /** Delay before retry number `attempts` (1 = after the first failure). */
  retryDelayMs?: (attempts: number) => number;
  /** After this many failed attempts a delivery becomes an error a person must resend. */
  maxAttempts?: number;
  /** How often the loop looks for due work when nothing wakes it. */
  pollMs?: number;
  now?: () => Date;
  /** Called just before a message goes on the wire (tests and logs). */
  onSending?: (delivery: LisDeliveryRow) => void;
}

/** 5 s, 10 s, 20 s … capped at 10 minutes: a LIS restart is ridden out without hammering it. */
export function defaultRetryDelayMs(attempts: number): number {
  return Math.min(5000 * 2 ** Math.max(0, attempts - 1), 10 * 60_000);
}

const FILE_EXTENSION: Record<LisFormat, string> = { hl7v2: '.hl7', 'fhir-r4': '.fhir.json' };

/** The outbox file of a message: its control id, made safe for a file name. */
export function outboxFileName(controlId: string, format: LisFormat): string {
  return `${controlId.replace(/[^A-Za-z0-9._-]/g, '_')}${FILE_EXTENSION[format]}`;
}

function isDue(delivery: LisDeliveryRow, now: Date): boolean {
  return delivery.nextAttemptAt === null || delivery.nextAttemptAt <= now.toISOString();
}

export class LisDelivery {
  private readonly store: Pick<Store, 'lis' | 'transaction'>;
  private readonly options: LisDeliveryOptions;
  private running: Promise<number> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(store: Pick<Store, 'lis' | 'transaction'>, options: LisDeliveryOptions) {
    this.store = store;
    this.options = options;
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /** One round: build what is pending, then deliver everything due. Rounds never overlap. Returns deliveries worked. */
  runOnce(): Promise<number> {
    if (this.running === null) {
      this.running = this.round().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private async round(): Promise<number> {
    await this.options.buildPending?.();
    return (await this.deliverOutbox()) + (await this.deliverMllp());
  }

  private retryAt(attempts: number): string | null {
    if (attempts >= (this.options.maxAttempts ?? 20)) return null;
    return new Date(this.now().getTime() + (this.options.retryDelayMs ?? defaultRetryDelayMs)(attempts)).toISOString();
  }

  private async deliverOutbox(): Promise<number> {
    let worked = 0;
    for (;;) {
      // Claimed, written and marked (sent, or failed with its retry) in one transaction: on PostgreSQL the head's row
      // stays locked until the mark commits, so another server's claim (FOR UPDATE SKIP LOCKED) gets nothing instead
      // of writing the same file again; on SQLite the transaction is the one writer's anyway.
      const outcome = await this.store.transaction(async (tx) => {
        const delivery = await tx.lis.nextOpenDelivery('outbox');
        if (delivery === null || !isDue(delivery, this.now())) return 'empty';
        const folder = (await tx.lis.getLisSettings()).outboxFolder.trim();
        const path = join(folder === '' ? this.options.defaultOutboxDir : folder, outboxFileName(delivery.controlId, delivery.format));
        // Written beside the target and renamed, so the LIS's file watcher never picks up half a message.
        try {
          writeAtomically(path, delivery.payload);
        } catch (e) {
          await tx.lis.markDeliveryFailed(delivery.id, {
            error: `Could not write ${path}: ${e instanceof FileWriteError ? e.reason : String(e)}. Check the outbox folder in Settings.`,
            retryAt: this.retryAt(delivery.attempts + 1),
          });
          return 'failed';
        }
        await tx.lis.markDeliverySent(delivery.id, path);
        return 'sent';
      });
      if (outcome === 'empty') return worked;
      // In order: after a failed write the next message waits for this one's retry.
      if (outcome === 'failed') return worked + 1;
      worked++;
    }
  }

  private async deliverMllp(): Promise<number> {
    let worked = 0;
    for (;;) {
      // The claim: the head of the queue marked 'sending' in one transaction, so that of several servers on one
      // PostgreSQL database exactly one sends it (the others' SKIP LOCKED claim gets nothing; after the commit the
      // 'sending' lease keeps it theirs). The send itself runs outside any transaction: 'sending' is committed
      // before the first byte, so a crash mid-send resends under the same control id.
      const claim = await this.store.transaction(async (tx) => {
        const delivery = await tx.lis.nextOpenDelivery('mllp');
        if (delivery === null || !isDue(delivery, this.now())) return null;
        const settings = await tx.lis.getLisSettings();
        if (settings.mllpHost.trim() === '' || settings.mllpPort === null) {
          await tx.lis.deferDelivery(
            delivery.id,
            'No MLLP receiver is configured (Settings → LIS); the message waits.',
            this.retryAt(1) ?? this.now().toISOString(),
          );
          return { delivery, host: null, port: null };
        }
        const host = settings.mllpHost.trim();
        const port = settings.mllpPort;
        await tx.lis.markDeliverySending(delivery.id, `${host}:${port}`);
        return { delivery, host, port };
      });
      if (claim === null) return worked;
      if (claim.host === null || claim.port === null) return worked + 1;
      const { delivery, host, port } = claim;
      this.options.onSending?.(delivery);
      worked++;
      const attempts = delivery.attempts + 1;
      try {
        const ack = await sendMllp(delivery.payload, delivery.controlId, {
          host,
          port,
          connectTimeoutMs: this.options.connectTimeoutMs ?? 10_000,
          ackTimeoutMs: this.options.ackTimeoutMs ?? 30_000,
        });
        if (isAccepted(ack.code)) {
          await this.store.lis.markDeliveryAcknowledged(delivery.id, ack.code);
          continue;
        }
        // AE / AR: the LIS read the message and refused it. Sending the same text again cannot help; a person fixes
        // the cause (an unknown patient, a code the LIS does not know) and resends.
        await this.store.lis.markDeliveryFailed(delivery.id, {
          error: `The LIS ${ack.code === 'AR' || ack.code === 'CR' ? 'rejected' : 'reported an error for'} the message (${ack.code})${ack.reason === null ? '' : `: ${ack.reason}`}`,
          retryAt: null,
          ackCode: ack.code,
        });
      } catch (e) {
        if (!(e instanceof MllpTransportError)) throw e;
        const retryAt = this.retryAt(attempts);
        await this.store.lis.markDeliveryFailed(delivery.id, {
          error: retryAt === null ? `${e.message} Gave up after ${attempts} attempts; resend when the LIS is reachable.` : e.message,
          retryAt,
        });
        // In order: the next message waits for this one's retry.
        return worked;
      }
    }
  }

  /** Runs rounds every pollMs (and at once on wake) until stop. Failures of a round are logged and retried. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (!this.started) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.runOnce()
        .catch((e: unknown) => console.error('MarrowCount: LIS delivery round failed', e))
        .finally(() => this.schedule(this.options.pollMs ?? 5000));
    }, ms);
    // The loop must not keep a CLI or test process alive on its own.
    this.timer.unref();
  }

  /** Asks for a round now (after a sign-off or a resend). */
  wake(): void {
    if (this.started) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.started = false;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }
}
