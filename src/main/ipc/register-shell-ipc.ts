// The desktop-shell services of window.marrowShell (src/shared/shell.ts): native dialogs, opening and printing a
// saved file. The renderer may only open or print files of the kinds MarrowCount writes (PDF, CSV, JSON) that
// exist: shell.openPath would otherwise run any program the renderer names.
import { existsSync, statSync } from 'node:fs';
import { basename, extname, isAbsolute, join } from 'node:path';
import { BrowserWindow, dialog, ipcMain, shell } from 'electron';
import { SHELL_CHANNELS } from '../../shared/shell';
import { StationConfigError } from '../station/station-config';
import type { SenderCheck } from './register-ipc';
import { hardenWindow } from '../window/harden-window';

const SAVE_FILTERS: Record<'pdf' | 'csv' | 'json', Electron.FileFilter> = {
  pdf: { name: 'PDF report', extensions: ['pdf'] },
  csv: { name: 'CSV table', extensions: ['csv'] },
  json: { name: 'JSON', extensions: ['json'] },
};

const OPENABLE = new Set(['.pdf', '.csv', '.json']);

function savedFile(path: unknown, allowed: ReadonlySet<string>): string {
  if (typeof path !== 'string' || !isAbsolute(path) || path.length > 4096) throw new Error('Expected the absolute path of a saved file.');
  if (!allowed.has(extname(path).toLowerCase())) throw new Error(`MarrowCount only opens the files it saves (${[...allowed].join(', ')}).`);
  if (!existsSync(path) || !statSync(path).isFile()) throw new Error(`${path} does not exist.`);
  return path;
}

/** Shows a PDF in Chromium's built-in viewer and opens the print dialog: the same on every platform. */
export async function printPdf(path: string, parent: BrowserWindow | null): Promise<void> {
  const viewer = new BrowserWindow({
    width: 900,
    height: 1000,
    title: `Print ${basename(path)}`,
    ...(parent ? { parent } : {}),
    webPreferences: { sandbox: true, contextIsolation: true, nodeIntegration: false, plugins: true },
  });
  hardenWindow(viewer, () => viewer.webContents.getURL());
  await viewer.loadFile(path);
  viewer.webContents.print({}, (success, reason) => {
    if (!success && reason !== 'cancelled') console.warn(`MarrowCount: printing ${path} failed: ${reason}`);
  });
}

export function registerShellHandlers(options: {
  reportsDir: string;
  isTrustedSender: SenderCheck;
  /** Saves the lab server as this PC's mode and restarts into it; throws StationConfigError for a refused address. */
  connectToServer: (url: string) => void;
}): () => void {
  const { reportsDir, isTrustedSender } = options;
  const guard =
    <A extends unknown[], R>(fn: (window: BrowserWindow | null, ...args: A) => Promise<R>) =>
    async (event: Electron.IpcMainInvokeEvent, ...args: A): Promise<R> => {
      if (!isTrustedSender(event)) throw new Error('Refused: not the MarrowCount window.');
      return fn(BrowserWindow.fromWebContents(event.sender), ...args);
    };

  ipcMain.handle(
    SHELL_CHANNELS.connectToServer,
    guard(async (_window, url: unknown) => {
      // Answered as data, not thrown: Electron would prefix a thrown message with its own words.
      if (typeof url !== 'string') return { ok: false, message: "Type the lab server's address." };
      try {
        options.connectToServer(url);
        return { ok: true };
      } catch (e) {
        if (e instanceof StationConfigError) return { ok: false, message: e.message };
        throw e;
      }
    }),
  );
  ipcMain.handle(
    SHELL_CHANNELS.chooseFolder,
    guard(async (window) => {
      const options: Electron.OpenDialogOptions = { title: 'Choose the folder of cell images', properties: ['openDirectory'] };
      const result = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
      return result.canceled ? null : (result.filePaths[0] ?? null);
    }),
  );
  ipcMain.handle(
    SHELL_CHANNELS.chooseSavePath,
    guard(async (window, defaultName: unknown, kind: unknown) => {
      const filter = SAVE_FILTERS[kind === 'csv' || kind === 'json' ? kind : 'pdf'];
      const name = typeof defaultName === 'string' ? basename(defaultName).slice(0, 200) : `report.${filter.extensions[0]}`;
      const options: Electron.SaveDialogOptions = { defaultPath: join(reportsDir, name), filters: [filter] };
      const result = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options);
      return result.canceled || !result.filePath ? null : result.filePath;
    }),
  );
  ipcMain.handle(
    SHELL_CHANNELS.openPath,
    guard(async (_window, path: unknown) => {
      const problem = await shell.openPath(savedFile(path, OPENABLE));
      if (problem) throw new Error(problem);
    }),
  );
  ipcMain.handle(
    SHELL_CHANNELS.printFile,
    guard(async (window, path: unknown) => printPdf(savedFile(path, new Set(['.pdf'])), window)),
  );
  return () => {
    for (const channel of Object.values(SHELL_CHANNELS)) ipcMain.removeHandler(channel);
  };
}
