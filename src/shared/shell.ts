// Desktop-shell services the renderer may use besides the domain API (MarrowApi). They exist only where a
// desktop shell does: the Electron preload provides them as `window.marrowShell`; in a plain browser (the
// loopback test host) `window.marrowShell` is undefined and the renderer falls back to typed-in paths.
export interface MarrowShell {
  /** Native "choose folder" dialog; null when the user cancels. */
  chooseFolder(): Promise<string | null>;
  /** Native "save as" dialog for a report or export; null when the user cancels. */
  chooseSavePath(defaultName: string, kind: 'pdf' | 'csv' | 'json'): Promise<string | null>;
  /** Opens a saved file (the PDF) in the system's default viewer. */
  openPath(path: string): Promise<void>;
  /** Prints a saved PDF through the system. */
  printFile(path: string): Promise<void>;
  /**
   * Absolute path of a file or folder dropped on the window (Electron's webUtils.getPathForFile).
   * Typed as unknown because src/shared has no DOM types; pass the DOM File.
   */
  pathForDroppedFile(file: unknown): string | null;
}

/** HTTP transport of MarrowApi (loopback test host): POST `${API_HTTP_PREFIX}${method}` with body {"args": [...]}, answer ApiResult. */
export const API_HTTP_PREFIX = '/api/';
/** Cell images: Electron custom protocol `marrowcell://cell/<caseId>/<imageId>`; HTTP host `/cells/<caseId>/<imageId>`. */
export const CELL_PROTOCOL = 'marrowcell';
