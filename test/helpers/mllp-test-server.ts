// A LIS on loopback for the MLLP tests: receives framed HL7 messages, records every receipt, and answers each as
// the test tells it — ACK (AA), NAK (AE or AR with a reason), drop the connection, answer late, or answer garbage.
// It dedupes by control id (MSH-10) as a LIS does, so a test can tell receipts from distinct messages.
import { createServer, type Server, type Socket } from 'node:net';
import { escapeHl7 } from '../../src/main/lis/hl7';
import { frameMllp, MllpDecoder } from '../../src/main/lis/mllp';

export type MllpBehaviour =
  | { kind: 'ack' }
  | { kind: 'nak'; code: 'AE' | 'AR'; reason: string }
  | { kind: 'drop' }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'garbage' }
  | { kind: 'silent' };

export interface MllpTestServer {
  port: number;
  /** Control ids in the order received, repeats included. */
  receipts: string[];
  /** Distinct control ids, in order of first receipt. */
  distinct(): string[];
  /** Messages as received, by control id (first receipt). */
  messages: Map<string, string>;
  behave(decide: (controlId: string, receipt: number) => MllpBehaviour): void;
  /** Resolves when `count` receipts have arrived. */
  waitForReceipts(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

function controlIdOf(message: string): string {
  const msh = message.split('\r')[0] ?? '';
  return msh.split('|')[9] ?? '';
}

export function ackFor(controlId: string, code: 'AA' | 'AE' | 'AR', reason?: string): string {
  // As a LIS writes it: the reason escaped, in MSA-3 and again in ERR-8 (the v2.5 place for it).
  const text = reason === undefined ? '' : escapeHl7(reason);
  const msa = reason === undefined ? `MSA|${code}|${controlId}` : `MSA|${code}|${controlId}|${text}`;
  const err = reason === undefined ? [] : [`ERR||||E|||${text}`];
  return [`MSH|^~\\&|TESTLIS|LAB|MARROWCOUNT|HAEM|20261204120000+0000||ACK^R01^ACK|A${controlId}|P|2.5.1`, msa, ...err].map((s) => `${s}\r`).join('');
}

export async function startMllpTestServer(): Promise<MllpTestServer> {
  let decide: (controlId: string, receipt: number) => MllpBehaviour = () => ({ kind: 'ack' });
  const receipts: string[] = [];
  const messages = new Map<string, string>();
  const sockets = new Set<Socket>();
  const waiters: { count: number; resolve: () => void }[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined); // a client killed mid-write resets the connection: not the test's concern
    const decoder = new MllpDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const message of decoder.push(chunk)) {
        const controlId = controlIdOf(message);
        receipts.push(controlId);
        if (!messages.has(controlId)) messages.set(controlId, message);
        for (const w of waiters.filter((w) => receipts.length >= w.count)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
        const behaviour = decide(controlId, receipts.length);
        switch (behaviour.kind) {
          case 'ack':
            socket.write(frameMllp(ackFor(controlId, 'AA')));
            break;
          case 'nak':
            socket.write(frameMllp(ackFor(controlId, behaviour.code, behaviour.reason)));
            break;
          case 'drop':
            socket.destroy();
            break;
          case 'slow': {
            const timer = setTimeout(() => {
              timers.delete(timer);
              if (!socket.destroyed) socket.write(frameMllp(ackFor(controlId, 'AA')));
            }, behaviour.delayMs);
            timers.add(timer);
            break;
          }
          case 'garbage':
            socket.write(frameMllp('this is not an HL7 message'));
            break;
          case 'silent':
            break;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the MLLP test server has no port');

  return {
    port: address.port,
    receipts,
    messages,
    distinct: () => [...new Set(receipts)],
    behave(next) {
      decide = next;
    },
    waitForReceipts(count, timeoutMs = 20_000) {
      if (receipts.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${receipts.length} of ${count} messages arrived`)), timeoutMs);
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
