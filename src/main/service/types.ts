import type { LabModelTrainingProgress, MarrowApi } from '../../shared/api';
import type { LisDelivery } from '../lis/delivery';
import type { SessionHolder } from './accounts';

export type { SessionHolder } from './accounts';

/** Where a stored image of a stored case lies on disk, and what it held when imported, as the database records it. */
export interface CellImageLocation {
  /** Absolute path of the case folder. */
  folder: string;
  /** The image's path relative to the case folder. */
  file: string;
  /** SHA-256 (hex) of the bytes that were imported and classified. */
  sha256: string;
  /** Identical copies stored as its duplicates (relative paths): shown when the image's own file changed. */
  copies: string[];
}

export interface MarrowServiceOptions {
  /**
   * Where the data is: a SQLite file (created, with its folder, and migrated when missing) or a PostgreSQL URL
   * (db/store.ts openStore; entry points resolve it with resolveDatabaseLocation). The analysis and re-analysis
   * workers open their own store at the same location.
   */
  databaseLocation: string;
  /** Folder of the model package (model.json, model.onnx, MODEL_CARD.md). */
  modelDir: string;
  /** Where reports and exports go when the caller names no path. */
  reportsDir: string;
  /** Builds the URL the renderer loads a cell image from; it differs per transport. */
  cellImageUrl: (caseId: number, imageId: number) => string;
  appVersion: string;
  /**
   * Where messages to the LIS are dropped when the LIS settings name no folder; default lis-outbox beside the SQLite
   * file (on PostgreSQL, which has no file: lis-outbox in reportsDir).
   */
  lisOutboxDir?: string;
  /**
   * The lab server's limit on case folders: each must resolve (symlinks followed) inside one of these. Absent in
   * the desktop app and the CLI, where the person is at the machine whose files they name.
   */
  caseFolderRoots?: readonly string[];
  /** The lab server's limit on files a caller names (reports, exports, lab-model packages): see named-path-policy.ts. */
  namedPathRoot?: string;
}

/** The application service: the one implementation of MarrowApi, plus what only the hosts (not the renderer) need. */
export interface MarrowService {
  /**
   * The API as seen by one session: the transport keeps the holder (one per window, per browser cookie, per CLI run)
   * and every call checks its session and the role table before running as its person.
   */
  forSession(holder: SessionHolder): MarrowApi;
  /** The image's location when it belongs to the case; null otherwise. Used by the cell-image protocol. */
  locateCellImage(caseId: number, imageId: number): Promise<CellImageLocation | null>;
  /** The LIS delivery loop: hosts start it (the desktop app, the browser-test host); tests run rounds by hand. */
  readonly lisDelivery: LisDelivery;
  /** Settles when the lab-model training in progress has ended and its result is stored (the CLI and tests wait on it). */
  whenLabModelTrained(): Promise<LabModelTrainingProgress>;
  /** Where the data is, as messages may show it (a file path, or a PostgreSQL URL without its password). */
  readonly databaseWhere: string;
  /** Cancels running analyses and closes the database. */
  close(): Promise<void>;
}
