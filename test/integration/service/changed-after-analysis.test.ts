// A file that was analysed and then changed or vanished on disk keeps its stored cell and result (the count does not
// move), and the technician is told: the run's progress failures name it with what to do, and the CLI lists it among
// the failed files (exit 2) without calling it uncounted. Real worker thread, tiny real model, on a real SQLite file
// and a real PostgreSQL database.
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/main/cli';
import type { CliIo } from '../../../src/main/cli/analyze';
import { ENGINES, GOOD_CROPS, type ServiceFixture, startService, TINY_MODEL, usePostgres, waitForAnalysis } from './helpers';

const pgSetup = usePostgres();

const CHANGED = 'ART_00002.jpg';
const VANISHED = 'EOS_00001.jpg';

function changeFilesOnDisk(folder: string): void {
  copyFileSync(join(GOOD_CROPS, 'BLA_00001.jpg'), join(folder, CHANGED));
  rmSync(join(folder, VANISHED));
}

describe.each(ENGINES)('the app: a re-run after analysed files changed on disk on %s', (engine) => {
  if (engine === 'postgres' && pgSetup.unavailable !== null) return;
  let fx: ServiceFixture;
  beforeAll(async () => {
    fx = await startService('changed-after-analysis', { engine, pg: pgSetup });
  });
  afterAll(async () => {
    await fx.dispose();
  });

  it('lists each changed or vanished file in the progress failures with what to do, and keeps the counts', async () => {
    const folder = fx.caseFolder('changed');
    const created = await fx.service.createCase({ patient: { labId: 'CH' }, accession: 'CH-1', specimen: 'bone_marrow_aspirate', folder });
    await fx.service.startAnalysis(created.id);
    const first = await waitForAnalysis(fx.service, created.id);
    expect(first).toMatchObject({ phase: 'done', failures: [] });
    const before = (await fx.service.getDifferential(created.id)).differential;

    changeFilesOnDisk(folder);
    await fx.service.startAnalysis(created.id);
    const again = await waitForAnalysis(fx.service, created.id);

    expect(again.phase).toBe('done');
    expect(again.failures.map((f) => f.file).sort()).toEqual([CHANGED, VANISHED]);
    for (const failure of again.failures) {
      expect(failure.reason).toContain(`${failure.file} changed on disk after it was analysed`);
      expect(failure.reason).toContain('still count');
      expect(failure.reason).toContain('restore the original file, or start a new case');
    }
    expect(again.failures.find((f) => f.file === CHANGED)!.reason).toContain('different content');
    expect(again.failures.find((f) => f.file === VANISHED)!.reason).toContain('cannot be read');
    // The stored cells and results stay as analysed: 11 cells, same differential, no import failure recorded.
    const detail = await fx.service.getCase(created.id);
    expect(detail.cellCount).toBe(11);
    expect(detail.importFailures).toEqual([]);
    expect((await fx.service.getDifferential(created.id)).differential).toEqual(before);
    expect(await fx.service.getAnalysisProgress(created.id)).toEqual(again);
  });
});

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

async function cli(args: string[]): Promise<CliRun> {
  const out = sink();
  const err = sink();
  const io: CliIo = { stdout: out.stream, stderr: err.stream, env: {}, onInterrupt: () => () => undefined };
  const code = await runCli(args, io);
  return { code, stdout: out.text(), stderr: err.text() };
}

describe.each(ENGINES)('the CLI: a re-run after analysed files changed on disk on %s', (engine) => {
  if (engine === 'postgres' && pgSetup.unavailable !== null) return;
  let fx: ServiceFixture;
  beforeAll(async () => {
    fx = await startService('changed-after-analysis-cli');
  });
  afterAll(async () => {
    await fx.dispose();
  });

  it('exits 2 and lists the files as changed after analysis, still counted', async () => {
    const folder = fx.caseFolder('cli-changed');
    // The CLI's own database (a file, or a PostgreSQL URL that its analysis worker opens too).
    const db = engine === 'sqlite' ? join(fx.root, 'cli.sqlite') : await pgSetup.freshUrl();
    const common = ['--db', db, '--model', TINY_MODEL, '--patient', 'CLI', '--case', 'CLI-1', '--batch-size', '4'];
    const first = await cli(['analyze', folder, ...common]);
    expect(first.code, first.stderr).toBe(0);
    const ndc = /NDC = (\d+)/.exec(first.stdout)?.[1];

    changeFilesOnDisk(folder);
    const again = await cli(['analyze', folder, ...common]);
    expect(again.code, again.stderr).toBe(2);
    expect(again.stdout).toContain('Failed files (2), changed on disk after they were analysed; their cells still count as analysed:');
    expect(again.stdout).not.toContain('not counted:');
    expect(again.stdout).toContain(`  - ${CHANGED} changed on disk after it was analysed`);
    expect(again.stdout).toContain(`  - ${VANISHED} changed on disk after it was analysed`);
    expect(/NDC = (\d+)/.exec(again.stdout)?.[1]).toBe(ndc);

    const json = await cli(['analyze', folder, ...common, '--json']);
    expect(json.code, json.stderr).toBe(2);
    const parsed = JSON.parse(json.stdout) as { failures: { file: string; reason: string }[] };
    expect(parsed.failures.map((f) => f.file)).toEqual([CHANGED, VANISHED]);
  });
});
