// Typed errors of the inference engine. Each names the file (and field) a person must look at, because the
// message is what a lab technician or IT administrator sees when a model package or a case folder is wrong.

/** The model package (model.json + model.onnx) is missing, corrupt or does not match its description. */
export class ModelPackageError extends Error {
  /** The file at fault (absolute path). */
  readonly file: string;
  /** The model.json field at fault, dotted (`input.mean`), when one is. */
  readonly field: string | undefined;

  constructor(message: string, file: string, field?: string) {
    super(message);
    this.name = 'ModelPackageError';
    this.file = file;
    this.field = field;
  }
}

/** The case folder itself cannot be read (missing, not a folder, no permission). Single files never throw this. */
export class CaseFolderError extends Error {
  readonly folder: string;

  constructor(message: string, folder: string) {
    super(message);
    this.name = 'CaseFolderError';
    this.folder = folder;
  }
}

/** One image could not be decoded for classification. Recorded as a per-file failure; the case goes on. */
export class ImageDecodeError extends Error {
  readonly file: string;

  constructor(message: string, file: string) {
    super(message);
    this.name = 'ImageDecodeError';
    this.file = file;
  }
}
