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
  /**
   * Application-menu commands the renderer must carry out (File ▸ New case, Help ▸ About, File ▸ Save report,
   * File ▸ Print). Returns the unsubscribe function. Menu items that need no screen (Open report…, Open model
   * card, Quit) are handled in main and never arrive here.
   * Note for the renderer: added by the shell engineer; same names as MenuCommand in src/renderer/src/global.d.ts.
   */
  onMenu(listener: (command: MenuCommand) => void): () => void;
  /**
   * Makes this PC a station of the lab server at `url` (https://host:port): saved, then the app restarts showing the
   * server's pages; its certificate is pinned on first use. Answers why not when the address is refused.
   */
  connectToServer(url: string): Promise<{ ok: true } | { ok: false; message: string }>;
}

export const MENU_COMMANDS = ['new-case', 'about', 'save-report', 'print'] as const;
export type MenuCommand = (typeof MENU_COMMANDS)[number];

// Electron IPC channels, named once here because both ends need them: main registers them, the preload (which
// must not import src/main) invokes or listens on them.
/** MarrowApi over IPC: one channel per method, `${API_CHANNEL_PREFIX}${method}`. */
export const API_CHANNEL_PREFIX = 'api:';
/** Main → renderer: a MenuCommand to carry out. */
export const MENU_CHANNEL = 'menu';
export const SHELL_CHANNELS = {
  chooseFolder: 'shell:chooseFolder',
  chooseSavePath: 'shell:chooseSavePath',
  openPath: 'shell:openPath',
  printFile: 'shell:printFile',
  connectToServer: 'shell:connectToServer',
} as const;

/** HTTP transport of MarrowApi (loopback test host): POST `${API_HTTP_PREFIX}${method}` with body {"args": [...]}, answer ApiResult. */
export const API_HTTP_PREFIX = '/api/';
/** Cell images: Electron custom protocol `marrowcell://cell/<caseId>/<imageId>`; HTTP host `/cells/<caseId>/<imageId>`. */
export const CELL_PROTOCOL = 'marrowcell';
