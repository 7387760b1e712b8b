// A model package is a folder holding model.onnx and model.json. Loading it checks, in this order, that both files
// exist, that model.json is valid (model-manifest.ts), that model.onnx is byte-for-byte the file model.json
// describes (SHA-256), and that the ONNX graph accepts the declared input and returns one score per declared class.
// Only then is the session handed out: every later failure is about a cell, never about the model.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelInfo } from '../../shared/api';
import type { ModelRegistration } from '../db';
import { ModelPackageError } from './errors';
import { parseModelManifest, type ModelManifest } from './model-manifest';
import { parseOpenSetStats, type OpenSetStats } from './open-set';

export interface LoadedModel {
  /** Absolute path of the package folder. */
  dir: string;
  manifest: ModelManifest;
  info: ModelInfo;
  session: ort.InferenceSession;
  /** null for a package without an embedding output or without open-set statistics. */
  openSet: OpenSetStats | null;
  /** Threads onnxruntime uses inside one operator. */
  intraOpThreads: number;
}

export interface LoadModelOptions {
  /** Defaults to the machine's available parallelism (see defaultIntraOpThreads). */
  intraOpThreads?: number;
  /**
   * Let onnxruntime's idle threads busy-wait for the next operator (its default). Off by default here: the model
   * shares the cores with sharp's decoders, and spinning threads take the CPU time the decoders need.
   * `npm run bench -- --spin-sweep`, 2 cores, marrowcount-ref 1.0.0, end to end: off 178 cells/s at 9.6 CPU-ms per
   * cell, on 159 cells/s at 11.2 CPU-ms per cell.
   */
  allowSpinning?: boolean;
}

/**
 * One onnxruntime thread per core: the model's run and sharp's decoding of the next batch overlap (both work off
 * the JS thread), and idle onnxruntime threads sleep instead of spinning (allowSpinning), so the decoders get the
 * cores whenever the model waits. `npm run bench -- --batch-sweep` on 2 cores with marrowcount-ref 1.0.0, end to
 * end: 1 / 2 / 4 threads gave 150 / 191 / 178 cells/s.
 */
export function defaultIntraOpThreads(): number {
  return Math.max(1, availableParallelism());
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function requireFile(path: string, what: string): Promise<void> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ModelPackageError(`${path} is not a file; a model package needs ${what}.`, path);
  } catch (error) {
    if (error instanceof ModelPackageError) throw error;
    throw new ModelPackageError(
      `The model package has no ${what}: ${path} cannot be read (${(error as Error).message}). Choose a folder holding model.onnx and model.json.`,
      path,
    );
  }
}

/** Reads and validates model.json without opening the ONNX graph. */
export async function readModelManifest(dir: string): Promise<ModelManifest> {
  const jsonPath = join(resolve(dir), 'model.json');
  await requireFile(jsonPath, 'model.json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(jsonPath, 'utf8'));
  } catch (error) {
    throw new ModelPackageError(`${jsonPath} is not valid JSON: ${(error as Error).message}`, jsonPath);
  }
  return parseModelManifest(parsed, jsonPath);
}

/** How a model package is recorded in the database (models table): the one mapping from a manifest to a row. */
export function modelRegistration(manifest: ModelManifest): Required<ModelRegistration> {
  return {
    modelId: manifest.id,
    version: manifest.version,
    sha256: manifest.sha256,
    name: manifest.name,
    classes: [...manifest.classes],
    provisionalClasses: [...manifest.provisional.classes],
  };
}

/**
 * The API's view of a model, from its registration (a stored row or a manifest's) and the research-only decision,
 * which the caller makes: from the manifest itself, or for a stored row by isResearchOnlyModel (service).
 */
export function modelInfoOf(model: ModelRegistration, researchOnly: boolean): ModelInfo {
  const { modelId: id, version, name, sha256 } = model;
  return { id, version, name, sha256, classes: [...model.classes], provisionalClasses: [...(model.provisionalClasses ?? [])], researchOnly };
}

export function modelInfo(manifest: ModelManifest): ModelInfo {
  return modelInfoOf(modelRegistration(manifest), manifest.researchOnly);
}

export async function loadModelPackage(dir: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const root = resolve(dir);
  const manifest = await readModelManifest(root);
  const onnxPath = join(root, 'model.onnx');
  const jsonPath = join(root, 'model.json');
  await requireFile(onnxPath, 'model.onnx');

  const actual = await sha256OfFile(onnxPath);
  if (actual !== manifest.sha256) {
    throw new ModelPackageError(
      `${onnxPath} does not match its model.json: SHA-256 is ${actual}, model.json (field "sha256") expects ${manifest.sha256}. ` +
        'The file is damaged or was replaced; reinstall the model package.',
      onnxPath,
      'sha256',
    );
  }

  const openSet = await loadOpenSetStats(root, manifest);

  const intraOpThreads = options.intraOpThreads ?? defaultIntraOpThreads();
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(onnxPath, {
      intraOpNumThreads: intraOpThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: options.allowSpinning === true ? '1' : '0' } } },
    });
  } catch (error) {
    throw new ModelPackageError(`${onnxPath} is not a usable ONNX model: ${(error as Error).message}`, onnxPath);
  }

  try {
    await checkGraphMatchesManifest(session, manifest, onnxPath, jsonPath);
  } catch (error) {
    await session.release();
    throw error;
  }
  return { dir: root, manifest, info: modelInfo(manifest), session, openSet, intraOpThreads };
}

/** The package's open-set statistics, checked against model.json's hash; null for a package without them. */
export async function loadOpenSetStats(root: string, manifest: ModelManifest): Promise<OpenSetStats | null> {
  if (manifest.openSet === null || manifest.embedding === null) return null;
  const path = join(root, manifest.openSet.file);
  await requireFile(path, `${manifest.openSet.file} (the open-set statistics model.json names in "openSet.file")`);
  const actual = await sha256OfFile(path);
  if (actual !== manifest.openSet.sha256) {
    throw new ModelPackageError(
      `${path} does not match its model.json: SHA-256 is ${actual}, model.json (field "openSet.sha256") expects ` +
        `${manifest.openSet.sha256}. The file is damaged or was replaced; reinstall the model package.`,
      path,
      'openSet.sha256',
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ModelPackageError(`${path} is not valid JSON: ${(error as Error).message}`, path);
  }
  return parseOpenSetStats(parsed, path, manifest.embedding.dim);
}

async function checkGraphMatchesManifest(session: ort.InferenceSession, manifest: ModelManifest, onnxPath: string, jsonPath: string): Promise<void> {
  const { input, output, classes } = manifest;
  if (!session.inputNames.includes(input.name)) {
    throw new ModelPackageError(
      `${jsonPath}: field "input.name" is "${input.name}" but the graph's inputs are ${session.inputNames.join(', ')}.`,
      jsonPath,
      'input.name',
    );
  }
  for (const [field, name] of [
    ['output.name', output.name],
    ['embedding.name', manifest.embedding?.name],
  ] as const) {
    if (name !== undefined && !session.outputNames.includes(name)) {
      throw new ModelPackageError(`${jsonPath}: field "${field}" is "${name}" but the graph's outputs are ${session.outputNames.join(', ')}.`, jsonPath, field);
    }
  }

  const declared = [3, input.height, input.width];
  const meta = session.inputMetadata.find((m) => m.name === input.name);
  if (meta && meta.isTensor) {
    const shape = meta.shape;
    const mismatch = shape.length !== 4 || shape.slice(1).some((dim, i) => typeof dim === 'number' && dim !== declared[i]);
    if (mismatch) {
      throw new ModelPackageError(
        `${onnxPath}: the graph's input "${input.name}" has shape [${shape.join(', ')}], but model.json declares ` +
          `[N, 3, ${input.height}, ${input.width}] (fields "input.height", "input.width"). The package is inconsistent.`,
        onnxPath,
        'input',
      );
    }
  }

  // A dynamic input can still hide a fixed size deeper in the graph (a flatten feeding a linear layer); one probe
  // run with the declared size finds it, and checks there is one output per declared class.
  const probe = new ort.Tensor('float32', new Float32Array(3 * input.height * input.width), [1, 3, input.height, input.width]);
  let result: ort.InferenceSession.ReturnType;
  try {
    result = await session.run({ [input.name]: probe });
  } catch (error) {
    throw new ModelPackageError(
      `${onnxPath} does not accept the input model.json declares ([1, 3, ${input.height}, ${input.width}], fields ` +
        `"input.height", "input.width"): ${(error as Error).message.split('\n')[0]}`,
      onnxPath,
      'input',
    );
  }
  const scores = result[output.name];
  const dims = scores?.dims ?? [];
  if (dims.length !== 2 || dims[1] !== classes.length) {
    throw new ModelPackageError(
      `${onnxPath}: output "${output.name}" has shape [${dims.join(', ')}] but model.json lists ${classes.length} classes ` +
        '(field "classes"); there must be one score per class.',
      onnxPath,
      'classes',
    );
  }
  if (manifest.embedding !== null) {
    const embeddingDims = result[manifest.embedding.name]?.dims ?? [];
    if (embeddingDims.length !== 2 || embeddingDims[1] !== manifest.embedding.dim) {
      throw new ModelPackageError(
        `${onnxPath}: output "${manifest.embedding.name}" has shape [${embeddingDims.join(', ')}] but model.json declares ` +
          `[N, ${manifest.embedding.dim}] (field "embedding.dim").`,
        onnxPath,
        'embedding.dim',
      );
    }
  }
}
