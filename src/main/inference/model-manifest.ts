// model.json: the description of a model package, validated field by field. A package that is wrong in any field is
// refused before a single cell is classified, with a message naming the field and the file, because a model whose
// preprocessing or class order is misdescribed produces plausible-looking but wrong differentials.
import { isCellClassCode, type CellClassCode } from '../../shared/cell-classes';
import { ModelPackageError } from './errors';

export type ColorOrder = 'RGB' | 'BGR';
export type ResizePolicy = 'fill' | 'cover';
export type ResizeKernel = 'nearest' | 'linear' | 'cubic' | 'mitchell' | 'lanczos2' | 'lanczos3';
export type OutputType = 'logits' | 'probabilities';

export interface ModelInputSpec {
  name: string;
  width: number;
  height: number;
  layout: 'NCHW';
  colorOrder: ColorOrder;
  resize: ResizePolicy;
  kernel: ResizeKernel;
  /** tensor = (pixel / scale - mean) / std, per channel in colorOrder. */
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
  /**
   * The side, in the crop's own pixels, of the field of view the model was trained on (Matek crops: 250). A crop
   * larger than this is centre-cropped to it and a smaller one padded by repeating its edge pixels, before the
   * resize: resizing a 360 px crop of the same microscope whole would shrink every cell and change its class.
   * null: the whole crop is resized, whatever its size.
   */
  frameSide: number | null;
}

export interface FlaggingPolicy {
  /** Cells whose calibrated top probability is below this go to review. */
  minConfidence: number;
  /** Cells whose top-1 minus top-2 probability is below this go to review. */
  minMargin: number;
  /** Classes rare and weighty enough that every such prediction is reviewed. */
  alwaysReview: CellClassCode[];
}

/** The pooled features before the last layer, a second output of the graph: stored per cell, scored for open-set. */
export interface EmbeddingSpec {
  name: string;
  dim: number;
}

/** Class statistics of the training embeddings (open-set.json beside model.onnx, see open-set.ts). */
export interface OpenSetSpec {
  file: string;
  sha256: string;
}

/**
 * Classes the model outputs but learned from too little, or the wrong kind of, data (today: from peripheral-blood
 * images only, never from marrow): every prediction of one is flagged, and every figure that counts unreviewed
 * cells of one says it is provisional.
 */
export interface ProvisionalClasses {
  classes: CellClassCode[];
  /** Why, in words a technician reads in flag reasons and reports ("learned from peripheral-blood images only"). */
  reason: string;
}

export interface ModelManifest {
  formatVersion: 1;
  id: string;
  version: string;
  name: string;
  sha256: string;
  classes: CellClassCode[];
  input: ModelInputSpec;
  output: { name: string; type: OutputType };
  /** null: an older package without the embedding output (no open-set flag, nothing stored per cell). */
  embedding: EmbeddingSpec | null;
  openSet: OpenSetSpec | null;
  provisional: ProvisionalClasses;
  calibration: { temperature: number } & Record<string, unknown>;
  flagging: FlaggingPolicy;
  training: { summary: string } & Record<string, unknown>;
  license: string;
  attribution: string[];
  /**
   * Reports carry "research use only" unless the package explicitly says otherwise: a model trained on a public
   * subset must never pass for a validated diagnostic device by omission.
   */
  researchOnly: boolean;
}

const KERNELS: readonly ResizeKernel[] = ['nearest', 'linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3'];

class FieldReader {
  constructor(private readonly file: string) {}

  fail(field: string, expectation: string, value: unknown): never {
    throw new ModelPackageError(
      `${this.file}: field "${field}" ${expectation} (found ${show(value)}). Fix model.json or choose another model folder.`,
      this.file,
      field,
    );
  }

  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(field, 'must be an object', value);
    return value as Record<string, unknown>;
  }

  string(value: unknown, field: string): string {
    if (typeof value !== 'string' || value.trim() === '') this.fail(field, 'must be a non-empty string', value);
    return value;
  }

  number(value: unknown, field: string, check: (n: number) => boolean, expectation: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || !check(value)) this.fail(field, expectation, value);
    return value;
  }

  oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.fail(field, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value);
    }
    return value as T;
  }

  triple(value: unknown, field: string, check: (n: number) => boolean, expectation: string): [number, number, number] {
    if (!Array.isArray(value) || value.length !== 3) this.fail(field, `must be an array of 3 numbers (${expectation})`, value);
    return [0, 1, 2].map((i) => this.number(value[i], `${field}[${i}]`, check, expectation)) as [number, number, number];
  }

  codes(value: unknown, field: string, minLength: number): CellClassCode[] {
    if (!Array.isArray(value) || value.length < minLength) {
      this.fail(field, `must be an array of at least ${minLength} Matek cell class codes`, value);
    }
    const seen = new Set<string>();
    return value.map((code: unknown, i: number) => {
      if (!isCellClassCode(code)) this.fail(`${field}[${i}]`, 'must be one of the 21 Matek cell class codes', code);
      if (seen.has(code)) this.fail(`${field}[${i}]`, 'must not repeat a class', code);
      seen.add(code);
      return code;
    });
  }
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Validates parsed model.json; `file` is used in messages only. */
export function parseModelManifest(json: unknown, file: string): ModelManifest {
  const r = new FieldReader(file);
  const root = r.object(json, '(root)');
  if (root['formatVersion'] !== 1) r.fail('formatVersion', 'must be 1 (the only format this version of MarrowCount reads)', root['formatVersion']);

  const sha256 = r.string(root['sha256'], 'sha256').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256)) r.fail('sha256', 'must be the 64-hex-digit SHA-256 of model.onnx', root['sha256']);

  const classes = r.codes(root['classes'], 'classes', 2);

  const input = r.object(root['input'], 'input');
  const positiveInt = (n: number): boolean => Number.isInteger(n) && n >= 8 && n <= 4096;
  const parsedInput: ModelInputSpec = {
    name: r.string(input['name'], 'input.name'),
    width: r.number(input['width'], 'input.width', positiveInt, 'must be an integer number of pixels, 8 to 4096'),
    height: r.number(input['height'], 'input.height', positiveInt, 'must be an integer number of pixels, 8 to 4096'),
    layout: r.oneOf(input['layout'], 'input.layout', ['NCHW'] as const),
    colorOrder: r.oneOf(input['colorOrder'], 'input.colorOrder', ['RGB', 'BGR'] as const),
    resize: r.oneOf(input['resize'], 'input.resize', ['fill', 'cover'] as const),
    kernel: r.oneOf(input['kernel'], 'input.kernel', KERNELS),
    scale: r.number(input['scale'], 'input.scale', (n) => n > 0, 'must be a positive number'),
    mean: r.triple(input['mean'], 'input.mean', () => true, 'one per channel'),
    std: r.triple(input['std'], 'input.std', (n) => n > 0, 'each positive'),
    frameSide:
      input['frameSide'] === undefined || input['frameSide'] === null
        ? null
        : r.number(input['frameSide'], 'input.frameSide', positiveInt, 'must be an integer number of pixels, 8 to 4096, when present'),
  };

  const output = r.object(root['output'], 'output');
  const calibration = r.object(root['calibration'], 'calibration');
  const flagging = r.object(root['flagging'], 'flagging');
  const training = r.object(root['training'], 'training');
  const unit = (n: number): boolean => n >= 0 && n <= 1;

  const attribution = root['attribution'];
  if (!Array.isArray(attribution) || attribution.some((a) => typeof a !== 'string')) {
    r.fail('attribution', 'must be an array of strings (may be empty)', attribution);
  }
  const researchOnly = root['researchOnly'];
  if (researchOnly !== undefined && typeof researchOnly !== 'boolean') r.fail('researchOnly', 'must be true or false when present', researchOnly);

  const embedding = root['embedding'] === undefined || root['embedding'] === null ? null : readEmbedding(r, root['embedding']);
  const openSet = root['openSet'] === undefined || root['openSet'] === null ? null : readOpenSet(r, root['openSet']);
  if (openSet !== null && embedding === null) r.fail('openSet', 'needs the field "embedding" (the output it scores)', root['openSet']);
  const provisional = readProvisional(r, root['provisionalClasses'], classes);

  return {
    formatVersion: 1,
    id: r.string(root['id'], 'id'),
    version: r.string(root['version'], 'version'),
    name: r.string(root['name'], 'name'),
    sha256,
    classes,
    input: parsedInput,
    output: {
      name: r.string(output['name'], 'output.name'),
      type: r.oneOf(output['type'], 'output.type', ['logits', 'probabilities'] as const),
    },
    embedding,
    openSet,
    provisional,
    calibration: {
      ...calibration,
      temperature: r.number(calibration['temperature'], 'calibration.temperature', (n) => n > 0, 'must be a positive number'),
    },
    flagging: {
      minConfidence: r.number(flagging['minConfidence'], 'flagging.minConfidence', unit, 'must be a probability, 0 to 1'),
      minMargin: r.number(flagging['minMargin'], 'flagging.minMargin', unit, 'must be a probability difference, 0 to 1'),
      // Codes the model cannot output are allowed: the default list is the same for every model.
      alwaysReview: r.codes(flagging['alwaysReview'], 'flagging.alwaysReview', 0),
    },
    training: { ...training, summary: r.string(training['summary'], 'training.summary') },
    license: r.string(root['license'], 'license'),
    attribution: attribution as string[],
    researchOnly: typeof researchOnly === 'boolean' ? researchOnly : true,
  };
}

function readEmbedding(r: FieldReader, value: unknown): EmbeddingSpec {
  const spec = r.object(value, 'embedding');
  return {
    name: r.string(spec['name'], 'embedding.name'),
    dim: r.number(spec['dim'], 'embedding.dim', (n) => Number.isInteger(n) && n >= 1 && n <= 4096, 'must be a whole number, 1 to 4096'),
  };
}

function readOpenSet(r: FieldReader, value: unknown): OpenSetSpec {
  const spec = r.object(value, 'openSet');
  const file = r.string(spec['file'], 'openSet.file');
  // The statistics live beside model.onnx: a path that leaves the package folder is refused.
  if (!/^[A-Za-z0-9._-]+$/.test(file) || file.startsWith('.')) r.fail('openSet.file', 'must be a plain file name inside the package folder', file);
  const sha256 = r.string(spec['sha256'], 'openSet.sha256').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256)) r.fail('openSet.sha256', `must be the 64-hex-digit SHA-256 of ${file}`, spec['sha256']);
  return { file, sha256 };
}

function readProvisional(r: FieldReader, value: unknown, classes: readonly CellClassCode[]): ProvisionalClasses {
  if (value === undefined || value === null) return { classes: [], reason: '' };
  const spec = r.object(value, 'provisionalClasses');
  const codes = r.codes(spec['classes'], 'provisionalClasses.classes', 0);
  codes.forEach((code, i) => {
    if (!classes.includes(code)) r.fail(`provisionalClasses.classes[${i}]`, "must be one of the model's classes", code);
  });
  return { classes: codes, reason: r.string(spec['reason'], 'provisionalClasses.reason') };
}
