/** `switchboard pii scan --jsonl`: stdin lines {"text": "..."} → stdout lines {"findings": [...]}. */
import { runPiiScanJsonl } from '../pipeline/pii/index.ts';

/** Streams stdin to stdout through the PII scanner; exit code 0 even when some lines were malformed. */
export async function runPiiScan(): Promise<void> {
  const result = await runPiiScanJsonl(process.stdin, process.stdout);
  if (result.errors > 0) process.stderr.write(`switchboard pii scan: ${result.errors} of ${result.lines} lines were invalid\n`);
}
