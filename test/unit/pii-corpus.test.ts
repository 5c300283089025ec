import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { PII_ENTITY_TYPES, scanPii, type PiiEntityType } from '../../src/pipeline/pii/index.ts';
import { LABELLED_CORPUS_PATH, generateLabelledCorpus, type LabelledLine } from '../fixtures/pii/generate-labelled.ts';
import { ibanOk, luhnOk } from '../fixtures/pii/values.ts';

const corpus: LabelledLine[] = readFileSync(LABELLED_CORPUS_PATH, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as LabelledLine);

/** Independent plausibility checks (not the scanner's own validators). */
const PLAUSIBLE: Readonly<Record<PiiEntityType, (v: string) => boolean>> = {
  EMAIL_ADDRESS: (v) => /^[^\s@]{1,64}@[^\s@.]+(\.[^\s@.]+)+$/u.test(v),
  PHONE_NUMBER: (v) => /^\+?[0-9(][0-9 ().\-/]{5,22}[0-9]$/.test(v) && (v.match(/[0-9]/g) ?? []).length >= 7 && (v.match(/[0-9]/g) ?? []).length <= 15,
  US_SSN: (v) => /^[0-9]{3}([- ])[0-9]{2}\1[0-9]{4}$/.test(v),
  CREDIT_CARD: (v) => /^[0-9][0-9 -]{11,21}[0-9]$/.test(v) && luhnOk(v.replace(/[ -]/g, '')) && v.replace(/[ -]/g, '').length >= 13,
  IBAN_CODE: (v) => /^[A-Z]{2}[0-9]{2}[A-Z0-9 ]{11,36}$/.test(v) && ibanOk(v.replace(/ /g, '')),
  IP_ADDRESS: (v) => isIP(v) !== 0,
};

const key = (e: { type: string; start: number; end: number }): string => `${e.type}:${e.start}:${e.end}`;

describe('labelled corpus', () => {
  it('has at least 300 lines covering every type, with negatives', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(300);
    const types = new Set(corpus.flatMap((l) => l.entities.map((e) => e.type)));
    expect([...types].sort()).toEqual([...PII_ENTITY_TYPES].sort());
    expect(corpus.filter((l) => l.entities.length === 0).length).toBeGreaterThanOrEqual(100);
  });

  it('matches its deterministic generator (regenerate with: npx node test/fixtures/pii/generate-labelled.ts)', () => {
    expect(generateLabelledCorpus()).toEqual(corpus);
  });

  it('every labelled span slices to a plausible value of its type', () => {
    for (const line of corpus) {
      for (const e of line.entities) {
        const value = line.text.slice(e.start, e.end);
        expect(PLAUSIBLE[e.type](value), `${e.type} ${JSON.stringify(value)} in ${JSON.stringify(line.text)}`).toBe(true);
      }
    }
  });

  it('the scanner reaches precision and recall ≥ 0.95 (exact type and span)', () => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const line of corpus) {
      const gold = new Set(line.entities.map(key));
      const got = new Set(scanPii(line.text).findings.map(key));
      for (const g of gold) if (got.has(g)) tp++;
      else fn++;
      for (const g of got) if (!gold.has(g)) fp++;
    }
    const precision = tp / (tp + fp);
    const recall = tp / (tp + fn);
    expect(precision).toBeGreaterThanOrEqual(0.95);
    expect(recall).toBeGreaterThanOrEqual(0.95);
  });
});
