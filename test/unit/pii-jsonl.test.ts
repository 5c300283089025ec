import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { PII_JSONL_MAX_LINE_BYTES, runPiiScanJsonl } from '../../src/pipeline/pii/index.ts';

async function run(chunks: Array<string | Buffer>): Promise<{ out: unknown[]; raw: string; lines: number; errors: number }> {
  const output = new PassThrough();
  const collected: Buffer[] = [];
  output.on('data', (c: Buffer) => collected.push(c));
  const result = await runPiiScanJsonl(Readable.from(chunks), output);
  output.end();
  const raw = Buffer.concat(collected).toString('utf8');
  const out = raw
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);
  return { out, raw, ...result };
}

describe('runPiiScanJsonl', () => {
  it('writes one findings line per input line, with only type/start/end in that order', async () => {
    const r = await run(['{"text":"bob@example.com is me"}\n{"text":"nothing"}\n']);
    expect(r.raw).toBe('{"findings":[{"type":"EMAIL_ADDRESS","start":0,"end":15}]}\n{"findings":[]}\n');
    expect(r).toMatchObject({ lines: 2, errors: 0 });
  });

  it('uses UTF-16 offsets into the given text, without sanitizing it first', async () => {
    const text = '😀 ４１１１ \u200B call (212) 555-1234';
    const r = await run([JSON.stringify({ text }) + '\n']);
    const start = text.indexOf('(212)');
    expect(r.out).toEqual([{ findings: [{ type: 'PHONE_NUMBER', start, end: start + 14 }] }]);
  });

  it('skips blank lines, accepts CRLF and a last line without newline', async () => {
    const r = await run(['\n  \n{"text":"8.8.8.8"}\r\n\r\n{"text":"a@example.org"}']);
    expect(r.out).toEqual([
      { findings: [{ type: 'IP_ADDRESS', start: 0, end: 7 }] },
      { findings: [{ type: 'EMAIL_ADDRESS', start: 0, end: 13 }] },
    ]);
    expect(r).toMatchObject({ lines: 2, errors: 0 });
  });

  it('reassembles lines and multi-byte chars split across chunks', async () => {
    const line = Buffer.from(JSON.stringify({ text: 'é mail bob@example.com' }) + '\n');
    const chunks = [...line].map((b) => Buffer.from([b]));
    const r = await run(chunks);
    expect(r.out).toEqual([{ findings: [{ type: 'EMAIL_ADDRESS', start: 7, end: 22 }] }]);
  });

  it.each([
    ['not JSON', '{text: nope}'],
    ['not an object', '"just a string"'],
    ['wrong type', '{"text": 42}'],
    ['missing text', '{}'],
    ['extra key', '{"text":"x","user":"bob"}'],
    ['text too long', JSON.stringify({ text: 'a'.repeat(100_001) })],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])],
  ])('reports %s as validation_failed and continues', async (_name, bad) => {
    const r = await run([bad, '\n{"text":"8.8.8.8"}\n']);
    expect(r.out).toHaveLength(2);
    const [first, second] = r.out as [{ error: { code: string; message: string } }, unknown];
    expect(first.error.code).toBe('validation_failed');
    expect(first.error.message).toMatch(/^line 1: /);
    expect(Object.keys(first)).toEqual(['error']);
    expect(second).toEqual({ findings: [{ type: 'IP_ADDRESS', start: 0, end: 7 }] });
    expect(r).toMatchObject({ lines: 2, errors: 1 });
  });

  it('error messages never echo the text', async () => {
    const r = await run([JSON.stringify({ text: 'secret 078-05-1126', extra: 'bob@example.com' }) + '\n']);
    expect(r.raw).not.toContain('078-05-1126');
    expect(r.raw).not.toContain('bob@example.com');
  });

  it('rejects a line over the byte cap without buffering it, then carries on', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    const big = new Readable({
      read(): void {
        if (sent < PII_JSONL_MAX_LINE_BYTES * 3) {
          sent += chunk.length;
          this.push(chunk);
        } else {
          this.push(Buffer.from('\n{"text":"8.8.8.8"}\n'));
          this.push(null);
        }
      },
    });
    const output = new PassThrough();
    const collected: Buffer[] = [];
    output.on('data', (c: Buffer) => collected.push(c));
    const concat = vi.spyOn(Buffer, 'concat');
    const result = await runPiiScanJsonl(big, output);
    const largestConcat = Math.max(0, ...concat.mock.calls.map(([list]) => list.reduce((n, b) => n + b.length, 0)));
    concat.mockRestore();
    const lines = Buffer.concat(collected).toString('utf8').trim().split('\n');
    expect(result).toEqual({ lines: 2, errors: 1 });
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      error: { code: 'validation_failed', message: `line 1: longer than ${PII_JSONL_MAX_LINE_BYTES} bytes` },
    });
    expect(JSON.parse(lines[1] ?? '')).toEqual({ findings: [{ type: 'IP_ADDRESS', start: 0, end: 7 }] });
    // The 3 MiB line was never assembled: nothing past the cap was ever joined together.
    expect(largestConcat).toBeLessThanOrEqual(PII_JSONL_MAX_LINE_BYTES);
  });

  it('waits for drain when the output applies back-pressure', async () => {
    let writes = 0;
    let pendingCallbacks = 0;
    const slow = new Writable({
      highWaterMark: 16,
      write(_chunk, _enc, cb): void {
        writes++;
        pendingCallbacks++;
        setTimeout(() => {
          pendingCallbacks--;
          cb();
        }, 1);
      },
    });
    let maxBuffered = 0;
    const origWrite = slow.write.bind(slow);
    slow.write = ((chunk: string) => {
      const ok = origWrite(chunk);
      maxBuffered = Math.max(maxBuffered, slow.writableLength);
      return ok;
    }) as typeof slow.write;
    const input = Array.from({ length: 200 }, (_, i) => JSON.stringify({ text: `line ${i} mail u${i}@example.com` }) + '\n');
    const result = await runPiiScanJsonl(Readable.from([input.join('')]), slow);
    await new Promise<void>((resolve) => slow.end(resolve));
    expect(result).toEqual({ lines: 200, errors: 0 });
    expect(writes).toBe(200);
    expect(pendingCallbacks).toBe(0);
    // Without waiting for 'drain', all 200 lines would pile up in the writable buffer.
    expect(maxBuffered).toBeLessThan(200);
  });
});
