/**
 * Core of `switchboard pii scan --jsonl`: one `{"text": "..."}` per input line, one result per
 * output line. Offsets index the text as given (no sanitization). A bad line yields an error
 * line and processing continues. Lines are capped in bytes: the rest of an oversized line is
 * discarded as it streams in, so memory stays bounded whatever the input.
 */
import { TextDecoder } from 'node:util';
import { z } from 'zod';
import { scanPii } from './scanner.ts';

/** Longest input line, in bytes, before it is rejected without being buffered. */
export const PII_JSONL_MAX_LINE_BYTES = 1024 * 1024;

/** Longest `text` per line, in UTF-16 code units. */
export const PII_JSONL_MAX_TEXT_CHARS = 100_000;

const LineSchema = z.strictObject({ text: z.string().max(PII_JSONL_MAX_TEXT_CHARS) });

const NEWLINE = 0x0a;

function errorLine(message: string): string {
  return JSON.stringify({ error: { code: 'validation_failed', message } });
}

/** The output line for one input line, or null for a blank line. */
function processLine(bytes: Buffer, lineNo: number, decoder: TextDecoder): { out: string; error: boolean } | null {
  let raw: string;
  try {
    raw = decoder.decode(bytes);
  } catch {
    return { out: errorLine(`line ${lineNo}: not valid UTF-8`), error: true };
  }
  if (raw.trim() === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { out: errorLine(`line ${lineNo}: not valid JSON`), error: true };
  }
  const result = LineSchema.safeParse(parsed);
  if (!result.success) {
    const detail = result.error.issues
      .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
      .join('; ');
    return { out: errorLine(`line ${lineNo}: ${detail}`), error: true };
  }
  const scan = scanPii(result.data.text, { maxChars: PII_JSONL_MAX_TEXT_CHARS });
  const findings = scan.findings.map((f) => ({ type: f.type, start: f.start, end: f.end }));
  return { out: JSON.stringify({ findings }), error: false };
}

async function writeLine(output: NodeJS.WritableStream, line: string): Promise<void> {
  if (output.write(line + '\n')) return;
  await new Promise<void>((resolve, reject) => {
    const onDrain = (): void => {
      output.off('error', onError);
      resolve();
    };
    const onError = (err: unknown): void => {
      output.off('drain', onDrain);
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    output.once('drain', onDrain);
    output.once('error', onError);
  });
}

/** Scans each JSONL line of `input`, writing one result line per non-blank line to `output`. */
export async function runPiiScanJsonl(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): Promise<{ lines: number; errors: number }> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let lines = 0;
  let errors = 0;
  let lineNo = 0;
  let parts: Buffer[] = [];
  let size = 0;
  let oversized = false;

  const finishLine = async (): Promise<void> => {
    lineNo++;
    let result: { out: string; error: boolean } | null;
    if (oversized) {
      result = { out: errorLine(`line ${lineNo}: longer than ${PII_JSONL_MAX_LINE_BYTES} bytes`), error: true };
    } else {
      let bytes = parts.length === 1 && parts[0] !== undefined ? parts[0] : Buffer.concat(parts, size);
      if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
      result = processLine(bytes, lineNo, decoder);
    }
    parts = [];
    size = 0;
    oversized = false;
    if (result === null) return;
    lines++;
    if (result.error) errors++;
    await writeLine(output, result.out);
  };

  const append = (piece: Buffer): void => {
    if (oversized || piece.length === 0) return;
    if (size + piece.length > PII_JSONL_MAX_LINE_BYTES) {
      oversized = true;
      parts = [];
      size = 0;
      return;
    }
    parts.push(piece);
    size += piece.length;
  };

  for await (const chunk of input) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let from = 0;
    for (;;) {
      const nl = buf.indexOf(NEWLINE, from);
      if (nl < 0) {
        append(buf.subarray(from));
        break;
      }
      append(buf.subarray(from, nl));
      await finishLine();
      from = nl + 1;
    }
  }
  if (size > 0 || oversized) await finishLine();
  return { lines, errors };
}
