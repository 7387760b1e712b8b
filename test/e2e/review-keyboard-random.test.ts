// Seeded, randomised key sequences on the real review screen in Debian's Chromium, against the real service over the
// loopback HTTP host. Each key press is applied to the cell the screen shows as selected just before it; an oracle in
// the test models what each key must do to the stored decisions (one decision stack per cell, as the database keeps
// them, and the screen's undo stack of this session's actions). After every key (or burst of fast keys, pressed
// while earlier saves are still in flight), once the screen has settled, every stored decision is compared with the
// oracle and every tile on the page with the database; at checkpoints and at the end the differential counts too. A lost key press, a decision applied to the wrong cell or a wrong undo shows
// as a mismatch naming the seed, the step and the keys that led to it.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CellView } from '../../src/shared/api';
import { CELL_CLASS_CODES, type CellClassCode } from '../../src/shared/cell-classes';
import { CLASS_KEYS } from '../../src/renderer/src/review/keymap';
import { loginAs, PEOPLE, startHarness, type Harness } from './harness';
import { DecisionStacks } from '../helpers/decision-stacks';
import { mulberry32 } from '../helpers/seeded-random';

/** Who reviews: the technician logged in, whose name every decision must carry. */
const REVIEWER = PEOPLE.tech.displayName;
const SEEDS = [20240611, 7, 99173];
const KEYS_PER_SEED = 60;
const CHECKPOINT_EVERY = 20;

// Browser-side code is passed as strings: the tests are typechecked without the DOM library.
/** Counts the renderer's API calls in flight; a call counts until a little after its body has been handed back. */
const COUNT_FETCHES = `(() => {
  window.__mcInflight = 0;
  const original = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    window.__mcInflight += 1;
    try {
      const response = await original(input, init);
      const body = await response.arrayBuffer();
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    } finally {
      setTimeout(() => { window.__mcInflight -= 1; }, 20);
    }
  };
})()`;

/** Resolves once no API call is in flight, no tile is saving and nothing is loading, continuously for 40 ms. */
const SETTLED = `new Promise((resolve, reject) => {
  const start = performance.now();
  let since = -1;
  const tick = () => {
    const idle = window.__mcInflight === 0 && document.querySelector('.tile-saving') === null && document.querySelector('[data-testid="loading"]') === null;
    const now = performance.now();
    if (!idle) since = -1;
    else if (since < 0) since = now;
    else if (now - since >= 40) return resolve(true);
    if (now - start > 15000) return reject(new Error('the review screen did not settle within 15 s (in flight: ' + window.__mcInflight + ')'));
    setTimeout(tick, 5);
  };
  tick();
})`;

interface Snapshot {
  tiles: { id: number; selected: boolean; decision: string | null; failed: boolean }[];
  pageInfo: string;
  errorBanner: string | null;
}

/** The grid as shown: each tile's id, whether it is selected, its decision text; the pager text; any error banner. */
const SELECTED = `(() => {
  const tile = document.querySelector('[data-testid^="cell-tile-"][data-selected="true"]');
  return tile ? Number(tile.getAttribute('data-testid').slice('cell-tile-'.length)) : null;
})()`;

const SNAPSHOT = `(() => {
  const tiles = Array.from(document.querySelectorAll('[data-testid^="cell-tile-"]')).map((tile) => {
    const id = Number(tile.getAttribute('data-testid').slice('cell-tile-'.length));
    const decision = document.querySelector('[data-testid="cell-decision-' + id + '"]');
    return { id, selected: tile.getAttribute('data-selected') === 'true', decision: decision ? decision.textContent : null, failed: tile.classList.contains('tile-failed') };
  });
  const info = document.querySelector('[data-testid="review-page-info"]');
  const banner = document.querySelector('[data-testid="error-banner"]');
  return { tiles, pageInfo: info ? info.textContent : '', errorBanner: banner ? banner.textContent : null };
})()`;

type Step =
  | { kind: 'key'; key: string; action: 'reclassify'; code: CellClassCode }
  | { kind: 'key'; key: string; action: 'confirm' | 'undo' | 'move' | 'page' | 'none' }
  | { kind: 'confirm-all' }
  | { kind: 'reload' }
  | { kind: 'burst'; keys: BurstKey[] };

/** A key of a burst: a class key (code), Enter/Space (confirm), an arrow (move) or, only last, an undo. */
interface BurstKey {
  key: string;
  action: 'reclassify' | 'confirm' | 'move' | 'undo';
  code?: CellClassCode;
}

const CLASS_BY_KEY = new Map(CELL_CLASS_CODES.map((code) => [CLASS_KEYS[code], code] as const));

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function randomStep(random: () => number): Step {
  const r = random();
  if (r < 0.26) {
    const key = pick(random, [...CLASS_BY_KEY.keys()]);
    // Now and then with Shift: the map reads the letter either way.
    const shifted = random() < 0.15;
    return { kind: 'key', key: shifted ? `Shift+${key.toUpperCase()}` : key, action: 'reclassify', code: CLASS_BY_KEY.get(key)! };
  }
  if (r < 0.42) return { kind: 'key', key: pick(random, ['Enter', 'Enter', 'Space']), action: 'confirm' };
  if (r < 0.57) return { kind: 'key', key: pick(random, ['Backspace', 'Backspace', 'Control+z']), action: 'undo' };
  if (r < 0.78)
    return { kind: 'key', key: pick(random, ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'ArrowRight', 'ArrowDown', 'Home', 'End']), action: 'move' };
  if (r < 0.87) return { kind: 'key', key: pick(random, ['PageDown', 'PageDown', 'PageUp']), action: 'page' };
  // Keys that are not in the review map (or are shortcuts of the browser) must change nothing.
  if (r < 0.9) return { kind: 'key', key: pick(random, ['g', 'y', 'Alt+b', 'Control+b', 'Control+Shift+Z']), action: 'none' };
  if (r < 0.925) return { kind: 'confirm-all' };
  if (r < 0.935) return { kind: 'reload' };
  return randomBurst(random);
}

/**
 * Fast typing: 3-6 keys pressed while the earlier ones are still being saved. Only keys whose target is the selection
 * at the moment of the key press and that move it at once (class keys, Enter/Space, arrows), so the test can read
 * which cell each key applies to without waiting for the saves; then, sometimes, one or two undos (they move the
 * selection only once their save has run, so nothing follows them in the burst).
 */
function randomBurst(random: () => number): Step {
  const keys: BurstKey[] = [];
  const length = 3 + Math.floor(random() * 4);
  for (let i = 0; i < length; i++) {
    const r = random();
    if (r < 0.45) {
      const key = pick(random, [...CLASS_BY_KEY.keys()]);
      keys.push({ key, action: 'reclassify', code: CLASS_BY_KEY.get(key)! });
    } else if (r < 0.75) keys.push({ key: pick(random, ['Enter', 'Space']), action: 'confirm' });
    else keys.push({ key: pick(random, ['ArrowLeft', 'ArrowRight', 'ArrowDown', 'ArrowUp', 'Home']), action: 'move' });
  }
  const undos = random() < 0.5 ? 0 : 1 + Math.floor(random() * 2);
  for (let i = 0; i < undos; i++) keys.push({ key: pick(random, ['Backspace', 'Control+z']), action: 'undo' });
  return { kind: 'burst', keys };
}

function describeStep(step: Step): string {
  if (step.kind === 'key') return step.key;
  if (step.kind === 'burst') return `[burst ${step.keys.map((k) => k.key).join(',')}]`;
  return step.kind === 'confirm-all' ? '[Confirm all shown]' : '[reload]';
}

/**
 * What the stored decisions must be: one stack of decisions per cell (each with the order it was made in, as the
 * review ids give it), and the screen's undo stack.
 */
class Oracle extends DecisionStacks<{ label: CellClassCode; order: number }> {
  undo: number[][] = [];
  private made = 0;
  decide(id: number, label: CellClassCode): void {
    this.add(id, { label, order: ++this.made });
    this.undo.push([id]);
  }
  confirmAll(ids: readonly number[]): void {
    for (const id of ids) this.add(id, { label: this.predicted.get(id)!, order: ++this.made });
    this.undo.push([...ids]);
  }
  /** The cell of the reviewer's most recent decision still in force, wherever it is (every decision here is theirs). */
  latestInForce(): number | null {
    let latest: { id: number; order: number } | null = null;
    for (const id of this.ids) {
      const top = this.decision(id);
      if (top !== null && (latest === null || top.order > latest.order)) latest = { id, order: top.order };
    }
    return latest?.id ?? null;
  }
  /**
   * Undo withdraws this session's last action; with none left (a new screen after a reload), the reviewer's own
   * latest decision still in force, which the server finds.
   */
  undoFrom(): void {
    const fallback = this.latestInForce();
    const ids = this.undo.pop() ?? (fallback === null ? [] : [fallback]);
    for (const id of [...ids].reverse()) this.withdraw(id);
  }
}

describe('review screen under random key sequences (seeded)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('review-keys');
  });
  afterAll(async () => {
    await h?.close();
  });

  async function analysedCase(accession: string): Promise<number> {
    const created = await (
      await h.api('tech')
    ).createCase({ patient: { labId: 'MRN-KEYS' }, accession, specimen: 'bone_marrow_aspirate', folder: h.caseFolder });
    await (await h.api('tech')).startAnalysis(created.id);
    await expect.poll(async () => (await (await h.api('tech')).getAnalysisProgress(created.id))?.phase, { timeout: 120_000, interval: 100 }).toBe('done');
    return created.id;
  }

  async function storedCells(caseId: number): Promise<CellView[]> {
    return (await (await h.api('tech')).listCells({ caseId, scope: 'all', limit: 1000 })).cells;
  }

  async function openReview(page: Page): Promise<void> {
    await page.getByTestId('review-grid').waitFor();
    await page.evaluate(SETTLED);
    await page.getByTestId('review-grid').focus();
  }

  for (const seed of SEEDS) {
    it(`keeps every decision exactly as keyed, seed ${seed}`, async () => {
      const started = Date.now();
      const caseId = await analysedCase(`BM-KEYS-${seed}`);
      const analysed = Date.now();
      const initial = await storedCells(caseId);
      expect(initial.length).toBeGreaterThan(40);
      expect(initial.every((cell) => cell.decision === null)).toBe(true);
      const oracle = new Oracle(new Map(initial.map((cell) => [cell.imageId, cell.predicted] as const)));

      const { page, pageErrors } = await h.newPage();
      await page.addInitScript(COUNT_FETCHES);
      await loginAs(page, h, 'tech', `/#/case/${caseId}/review?scope=all`);
      await openReview(page);

      const random = mulberry32(seed);
      const log: string[] = [];
      const where = (step: number) => `seed ${seed}, step ${step}; keys so far (selected cell before each): ${log.slice(-15).join(' ')}`;

      async function check(step: number, withDifferential: boolean): Promise<Snapshot> {
        const stored = await storedCells(caseId);
        const byId = new Map(stored.map((cell) => [cell.imageId, cell] as const));
        const wrong: string[] = [];
        for (const cell of stored) {
          const want = oracle.decision(cell.imageId)?.label ?? null;
          const got = cell.decision?.label ?? null;
          if (got !== want) wrong.push(`cell ${cell.imageId}: stored ${got ?? 'no decision'}, expected ${want ?? 'no decision'}`);
          else if (cell.effectiveLabel !== oracle.effective(cell.imageId))
            wrong.push(`cell ${cell.imageId}: effective ${cell.effectiveLabel}, expected ${oracle.effective(cell.imageId)}`);
          if (cell.decision !== null && cell.decision.reviewer !== REVIEWER) wrong.push(`cell ${cell.imageId}: reviewer ${cell.decision.reviewer}`);
        }
        expect(wrong, `stored decisions, ${where(step)}`).toEqual([]);

        const shown = (await page.evaluate(SNAPSHOT)) as Snapshot;
        expect(shown.errorBanner, `error banner, ${where(step)}`).toBeNull();
        const tileWrong: string[] = [];
        for (const tile of shown.tiles) {
          const cell = byId.get(tile.id);
          if (cell === undefined) {
            tileWrong.push(`tile ${tile.id} is not a cell of the case`);
            continue;
          }
          const label = cell.decision?.label;
          const want = label === undefined ? null : label === cell.predicted ? '✓ Confirmed' : `→ ${label} `;
          if (want === null ? tile.decision !== null : tile.decision === null || !tile.decision.startsWith(want)) {
            tileWrong.push(`tile ${tile.id} shows ${JSON.stringify(tile.decision)}, stored ${label ?? 'no decision'} (predicted ${cell.predicted})`);
          }
          if (tile.failed) tileWrong.push(`tile ${tile.id} shows a failed save`);
        }
        expect(tileWrong, `tiles on screen, ${where(step)}`).toEqual([]);
        expect(shown.tiles.filter((tile) => tile.selected).length, `one selected tile, ${where(step)}`).toBe(1);
        const range = /Cells (\d+)–(\d+) of (\d+)/.exec(shown.pageInfo);
        expect(range, `page info ${JSON.stringify(shown.pageInfo)}, ${where(step)}`).not.toBeNull();
        expect(Number(range![2]) - Number(range![1]) + 1, `tiles shown vs page info, ${where(step)}`).toBe(shown.tiles.length);
        expect(Number(range![3])).toBe(stored.length);

        if (withDifferential) {
          const { differential } = await (await h.api('tech')).getDifferential(caseId);
          const counts: Record<string, number> = {};
          for (const row of differential.rows) if (row.count > 0) counts[row.code] = row.count;
          const expected = oracle.counts();
          for (const excluded of differential.excluded) {
            expect(excluded.count, `excluded ${excluded.code}, ${where(step)}`).toBe(expected[excluded.code] ?? 0);
            if (excluded.count > 0) counts[excluded.code] = excluded.count;
          }
          expect(counts, `differential counts, ${where(step)}`).toEqual(expected);
          expect(differential.totalCellsCounted).toBe(stored.length);
        }
        return shown;
      }

      let shown = await check(0, true);
      const tally = { reclassify: 0, confirm: 0, undo: 0, undoFallback: 0, move: 0, page: 0, none: 0, 'confirm-all': 0, reload: 0, burst: 0 };
      const pagesSeen = new Set<string>([shown.pageInfo]);

      // After the random keys, a fixed tail that makes sure Undo's fallback is used: a decision on the first cell of
      // the first page, a new screen (empty undo stack), then Undo twice: that decision is withdrawn, then the
      // reviewer's next most recent one still in force (the undo survives the reload: it is on the server).
      const tail: Step[] = [
        { kind: 'reload' },
        { kind: 'key', key: 'b', action: 'reclassify', code: 'BLA' },
        { kind: 'reload' },
        { kind: 'key', key: 'Backspace', action: 'undo' },
        { kind: 'key', key: 'Control+z', action: 'undo' },
      ];
      const steps = KEYS_PER_SEED + tail.length;
      for (let step = 1; step <= steps; step++) {
        let next = step <= KEYS_PER_SEED ? randomStep(random) : tail[step - KEYS_PER_SEED - 1]!;
        const onPage = shown.tiles.map((tile) => tile.id);
        const undecidedOnPage = onPage.filter((id) => oracle.decision(id) === null);
        // "Confirm all shown" is disabled with nothing undecided on the page: press a key instead.
        if (next.kind === 'confirm-all' && undecidedOnPage.length === 0) next = { kind: 'key', key: 'Enter', action: 'confirm' };
        const selected = shown.tiles.find((tile) => tile.selected)?.id ?? null;
        log.push(`${describeStep(next)}@${selected ?? '-'}`);

        if (next.kind === 'reload') {
          tally.reload++;
          await page.reload();
          await openReview(page);
          // A new screen: its undo stack starts empty; Undo then withdraws the reviewer's latest decision in force.
          oracle.undo = [];
        } else if (next.kind === 'burst') {
          tally.burst++;
          let target = selected;
          const applied: string[] = [];
          for (const { key, action, code } of next.keys) {
            if (action === 'undo') {
              // Exact only while this session has an action to withdraw (the fallback depends on a later selection).
              if (oracle.undo.length === 0) break;
              await page.keyboard.press(key);
              oracle.undoFrom();
              applied.push(key);
              continue;
            }
            await page.keyboard.press(key);
            if (target !== null && action !== 'move') oracle.decide(target, action === 'reclassify' ? code! : oracle.effective(target));
            applied.push(`${key}@${target ?? '-'}`);
            // The selection moves with the key press itself, before the decision is saved.
            target = (await page.evaluate(SELECTED)) as number | null;
          }
          log[log.length - 1] = `[burst ${applied.join(',')}]`;
        } else if (next.kind === 'confirm-all') {
          tally['confirm-all']++;
          await page.getByTestId('review-confirm-all').click();
          oracle.confirmAll(undecidedOnPage);
        } else {
          tally[next.action]++;
          await page.keyboard.press(next.key);
          if (selected !== null) {
            if (next.action === 'reclassify') oracle.decide(selected, next.code);
            else if (next.action === 'confirm') oracle.decide(selected, oracle.effective(selected));
          }
          if (next.action === 'undo') {
            if (oracle.undo.length === 0 && oracle.latestInForce() !== null) tally.undoFallback++;
            oracle.undoFrom();
          }
        }
        await page.evaluate(SETTLED);
        shown = await check(step, step % CHECKPOINT_EVERY === 0 || step > KEYS_PER_SEED);
        pagesSeen.add(shown.pageInfo);
      }
      await check(steps, true);
      expect(tally.undoFallback).toBeGreaterThan(0);
      const decided = [...oracle.stacks.values()].filter((stack) => stack.length > 0).length;
      const deepest = Math.max(...[...oracle.stacks.values()].map((stack) => stack.length));
      console.log(
        `seed ${seed}: ${JSON.stringify(tally)}; ${decided} cells decided, deepest stack ${deepest}; pages seen ${pagesSeen.size}; analysis ${analysed - started} ms, keys ${Date.now() - analysed} ms`,
      );
      expect(pageErrors.map((e) => e.message)).toEqual([]);
      await page.context().close();
    });
  }
});
