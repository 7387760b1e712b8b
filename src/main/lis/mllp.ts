// MLLP, the Minimal Lower Layer Protocol (HL7 v2 Implementation Guide, Appendix C): each message is framed as
// <VT> message <FS><CR> on a TCP connection, and in original acknowledgement mode the receiver answers each message
// with an ACK whose MSA-1 says AA (accepted), AE (error) or AR (rejected), MSA-2 echoing the message's MSH-10.
// One connection per message: a LIS restart or a dropped socket then costs one attempt, never a stuck connection.
import { connect, type Socket } from 'node:net';
import { splitSegments, unescapeHl7 } from './hl7';

export const START_BLOCK = 0x0b;
export const END_BLOCK = 0x1c;
export const CARRIAGE_RETURN = 0x0d;

export function frameMllp(message: string): Buffer {
  return Buffer.concat([Buffer.from([START_BLOCK]), Buffer.from(message, 'utf8'), Buffer.from([END_BLOCK, CARRIAGE_RETURN])]);
}

/** Collects framed messages from a byte stream that may split or join them anywhere. */
export class MllpDecoder {
  private buffer = Buffer.alloc(0);

  push(chunk: Buffer): string[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const messages: string[] = [];
    for (;;) {
      const start = this.buffer.indexOf(START_BLOCK);
      if (start < 0) {
        this.buffer = Buffer.alloc(0);
        return messages;
      }
      const end = this.buffer.indexOf(END_BLOCK, start + 1);
      if (end < 0 || end + 1 >= this.buffer.length) {
        this.buffer = this.buffer.subarray(start);
        return messages;
      }
      messages.push(this.buffer.subarray(start + 1, end).toString('utf8'));
      // The CR after FS is part of the frame; tolerate its absence rather than lose the next message.
      this.buffer = this.buffer.subarray(this.buffer[end + 1] === CARRIAGE_RETURN ? end + 2 : end + 1);
    }
  }
}

export const ACK_CODES = ['AA', 'AE', 'AR', 'CA', 'CE', 'CR'] as const;
export type AckCode = (typeof ACK_CODES)[number];

export interface Acknowledgement {
  code: AckCode;
  /** MSA-2: the control id of the message acknowledged. */
  controlId: string;
  /** The receiver's reason (MSA-3, ERR-3 text, ERR-8), for AE and AR. */
  reason: string | null;
}

/** Accepted: AA in original mode, CA (commit accept) in enhanced mode. */
export function isAccepted(code: AckCode): boolean {
  return code === 'AA' || code === 'CA';
}

/** A connection that failed, dropped, timed out or answered something that is not an ACK: worth another try. */
export class MllpTransportError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MllpTransportError';
  }
}

export function parseAcknowledgement(message: string): Acknowledgement {
  const segments = splitSegments(message);
  const msa = segments.find((s) => s[0] === 'MSA');
  if (segments[0]?.[0] !== 'MSH' || msa === undefined)
    throw new MllpTransportError('The receiver answered with something that is not an HL7 ACK (no MSH and MSA).');
  const code = msa[1] ?? '';
  if (!(ACK_CODES as readonly string[]).includes(code)) throw new MllpTransportError(`The receiver's ACK has an unknown code "${code.slice(0, 10)}" in MSA-1.`);
  const reasons: string[] = [];
  if (msa[3]) reasons.push(unescapeHl7(msa[3]));
  for (const err of segments.filter((s) => s[0] === 'ERR')) {
    const errorCode = err[3]?.split('^');
    if (errorCode !== undefined && (errorCode[1] || errorCode[0])) reasons.push(unescapeHl7(errorCode[1] || errorCode[0]!));
    if (err[8]) reasons.push(unescapeHl7(err[8]));
  }
  return { code: code as AckCode, controlId: unescapeHl7(msa[2] ?? ''), reason: reasons.length === 0 ? null : [...new Set(reasons)].join('; ') };
}

export interface MllpSendOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  /** From the last byte written to the end of the ACK. */
  ackTimeoutMs: number;
}

/**
 * Sends one message and resolves with the receiver's ACK for it. Rejects with MllpTransportError when the
 * connection fails or drops, no ACK comes in time, or the ACK is for another control id.
 */
export function sendMllp(message: string, controlId: string, options: MllpSendOptions): Promise<Acknowledgement> {
  const where = `${options.host}:${options.port}`;
  return new Promise((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const socket: Socket = connect({ host: options.host, port: options.port });
    const finish = (error: Error | null, ack?: Acknowledgement) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error !== null) reject(error);
      else resolve(ack!);
    };
    const arm = (ms: number, what: string) => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(new MllpTransportError(`${what} (${where}, after ${ms} ms).`)), ms);
    };
    arm(options.connectTimeoutMs, 'The LIS did not accept the connection in time');
    const decoder = new MllpDecoder();
    socket.on('connect', () => {
      socket.write(frameMllp(message), () => arm(options.ackTimeoutMs, 'The LIS did not acknowledge the message in time'));
    });
    socket.on('data', (chunk: Buffer) => {
      for (const text of decoder.push(chunk)) {
        let ack: Acknowledgement;
        try {
          ack = parseAcknowledgement(text);
        } catch (e) {
          finish(e as Error);
          return;
        }
        if (ack.controlId !== controlId) {
          finish(new MllpTransportError(`The LIS acknowledged control id "${ack.controlId.slice(0, 40)}" instead of ${controlId}.`));
          return;
        }
        finish(null, ack);
        return;
      }
    });
    socket.on('error', (e) => finish(new MllpTransportError(`Could not send to the LIS at ${where}: ${e.message}.`, { cause: e })));
    socket.on('close', () => finish(new MllpTransportError(`The LIS at ${where} closed the connection before acknowledging the message.`)));
  });
}
