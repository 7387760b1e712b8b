import { describe, expect, it } from 'vitest';
import { frameMllp, MllpDecoder, MllpTransportError, parseAcknowledgement } from '../../../../src/main/lis/mllp';

describe('MLLP framing', () => {
  it('wraps a message in <VT> … <FS><CR>', () => {
    expect([...frameMllp('MSH|x\r')]).toEqual([0x0b, ...Buffer.from('MSH|x\r'), 0x1c, 0x0d]);
  });

  it('reads frames however the stream splits or joins them, and skips bytes outside a frame', () => {
    const decoder = new MllpDecoder();
    const stream = Buffer.concat([Buffer.from('noise'), frameMllp('first\r'), frameMllp('zweite ä\r')]);
    const seen: string[] = [];
    for (let i = 0; i < stream.length; i += 3) seen.push(...decoder.push(stream.subarray(i, i + 3)));
    expect(seen).toEqual(['first\r', 'zweite ä\r']);
    expect(new MllpDecoder().push(stream)).toEqual(['first\r', 'zweite ä\r']);
  });

  it('waits for the CR after FS before it takes a frame', () => {
    const decoder = new MllpDecoder();
    const frame = frameMllp('m\r');
    expect(decoder.push(frame.subarray(0, frame.length - 1))).toEqual([]);
    expect(decoder.push(frame.subarray(frame.length - 1))).toEqual(['m\r']);
  });
});

describe('reading an ACK', () => {
  const msh = 'MSH|^~\\&|LIS|HOSP|MARROWCOUNT|HAEM|20261204120000+0000||ACK^R01^ACK|A1|P|2.5.1\r';

  it('reads the code and the control id acknowledged', () => {
    expect(parseAcknowledgement(`${msh}MSA|AA|MC1\r`)).toEqual({ code: 'AA', controlId: 'MC1', reason: null });
  });

  it('collects the reason from MSA-3, ERR-3 and ERR-8, unescaped and without repeats', () => {
    const ack = `${msh}MSA|AE|MC1|Patient \\F\\ unknown\rERR|||204^Unknown key identifier^HL70357|E||||Patient \\F\\ unknown\r`;
    expect(parseAcknowledgement(ack)).toEqual({ code: 'AE', controlId: 'MC1', reason: 'Patient | unknown; Unknown key identifier' });
  });

  it('refuses what is not an ACK', () => {
    expect(() => parseAcknowledgement('hello')).toThrow(MllpTransportError);
    expect(() => parseAcknowledgement(`${msh}MSA|OK|MC1\r`)).toThrow(/unknown code "OK"/);
  });
});
