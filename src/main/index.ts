// The Electron entry point: app lifecycle, the one window, and wiring of the service to IPC and the cell protocol.
// No business rule lives here (see service/); the security settings do, because they belong to the window.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, Menu, session, shell, type IpcMainInvokeEvent } from 'electron';
import { MENU_CHANNEL, type MenuCommand } from '../shared/shell';
import { appDatabaseLocation, appPaths } from './app-paths';
import { registerApiHandlers } from './ipc/register-ipc';
import { registerShellHandlers } from './ipc/register-shell-ipc';
import { cellImageUrl, handleCellProtocol, registerCellSchemeAsPrivileged } from './protocol/register-cell-protocol';
import { describeDatabaseLocation } from './db/store';
import { createMarrowService } from './service/marrow-service';
import type { MarrowService } from './service/types';
import { parseServerUrl, readStationConfig, StationConfigError, writeStationConfig } from './station/station-config';
import { openStationWindow } from './station/station-window';
import { buildAppMenu } from './window/app-menu';
import { hardenSession } from './window/harden-session';
import { hardenWindow } from './window/harden-window';
import { isRendererUrl } from './window/renderer-origin';

// An empty value means "no dev server" (tests clear it), never an empty URL.
const devServerUrl = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'] || undefined;
let mainWindow: BrowserWindow | null = null;
let service: MarrowService | null = null;

app.setName('MarrowCount');
// A separate data folder (database, settings) for tests and for a second lab profile; must precede 'ready'.
const userDataOverride = process.env['MARROWCOUNT_USER_DATA'];
if (userDataOverride) app.setPath('userData', userDataOverride);
// Must precede 'ready': privileged schemes are fixed when the first session starts.
registerCellSchemeAsPrivileged();

function rendererUrl(): string {
  return devServerUrl ?? pathToFileURL(appPaths().rendererIndex).href;
}

/** Only our window's top frame, showing our renderer, may call the API. */
function isTrustedSender(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  // Compared by id and by "has no parent" rather than object identity: Electron may hand out fresh wrappers.
  if (!mainWindow || mainWindow.isDestroyed() || event.sender.id !== mainWindow.webContents.id) return false;
  if (!frame || frame.parent !== null) return false;
  return isRendererUrl(rendererUrl(), frame.url);
}

function createMainWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1400,
    height: 900,
    minWidth: 1000,
    minHeight: 700,
    show: false,
    title: 'MarrowCount',
    webPreferences: {
      preload: appPaths().preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  hardenWindow(window, rendererUrl);
  window.once('ready-to-show', () => window.show());
  window.webContents.on('render-process-gone', (_event, details) => {
    console.error(`MarrowCount: the window's renderer stopped (${details.reason}); reloading`);
    if (details.reason !== 'clean-exit') void window.loadURL(rendererUrl());
  });
  void window.loadURL(rendererUrl());
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = null;
  });
  return window;
}

function sendMenuCommand(command: MenuCommand): void {
  const target = BrowserWindow.getFocusedWindow() ?? mainWindow;
  target?.webContents.send(MENU_CHANNEL, command);
}

async function openReport(reportsDir: string): Promise<void> {
  const options: Electron.OpenDialogOptions = {
    title: 'Open a saved report',
    defaultPath: reportsDir,
    properties: ['openFile'],
    filters: [{ name: 'PDF report', extensions: ['pdf'] }],
  };
  const result = mainWindow ? await dialog.showOpenDialog(mainWindow, options) : await dialog.showOpenDialog(options);
  const file = result.filePaths[0];
  if (result.canceled || !file) return;
  const problem = await shell.openPath(file);
  if (problem) dialog.showErrorBox('Could not open the report', `${file}: ${problem}`);
}

async function openModelCard(modelDir: string): Promise<void> {
  const card = `${modelDir}/MODEL_CARD.md`;
  if (!existsSync(card)) {
    dialog.showErrorBox('No model card', `The model card is missing: ${card}. Reinstall MarrowCount.`);
    return;
  }
  const problem = await shell.openPath(card);
  if (problem) dialog.showErrorBox('Could not open the model card', `${card}: ${problem}`);
}

/** This PC's mode: its own database (local) or a station of a lab server (src/main/station). */
function stationConfigFile(): string {
  return join(app.getPath('userData'), 'station.json');
}

/** Saves the new mode and restarts into it (the will-quit handler closes the local service first). */
function switchMode(config: Parameters<typeof writeStationConfig>[1]): void {
  writeStationConfig(stationConfigFile(), config);
  app.relaunch();
  app.quit();
}

function startStation(config: Extract<ReturnType<typeof readStationConfig>, { mode: 'server' }>): void {
  Menu.setApplicationMenu(
    buildAppMenu({
      send: sendMenuCommand,
      openReport: () => void openReport(appPaths().reportsDir),
      openModelCard: () => void openModelCard(appPaths().modelDir),
      isDevelopment: !app.isPackaged,
      platform: process.platform,
      station: { server: new URL(config.url).host, useLocal: () => switchMode({ mode: 'local' }) },
    }),
  );
  mainWindow = openStationWindow(config, stationConfigFile());
}

async function start(): Promise<void> {
  const paths = appPaths();
  let station;
  try {
    station = readStationConfig(stationConfigFile());
  } catch (e) {
    if (!(e instanceof StationConfigError)) throw e;
    dialog.showErrorBox('MarrowCount: station settings unreadable', `${e.message}\n\nMarrowCount starts with this computer's own database.`);
    station = { mode: 'local' } as const;
  }
  if (station.mode === 'server') {
    startStation(station);
    return;
  }
  hardenSession(session.defaultSession, (url) => isRendererUrl(rendererUrl(), url));
  let running: MarrowService;
  let databaseLocation: string | null = null;
  try {
    databaseLocation = appDatabaseLocation();
    running = await createMarrowService({
      databaseLocation,
      modelDir: paths.modelDir,
      reportsDir: paths.reportsDir,
      cellImageUrl,
      appVersion: app.getVersion(),
    });
  } catch (e) {
    // Without its database MarrowCount can do nothing safely: say why and where, then quit.
    dialog.showErrorBox(
      'MarrowCount cannot start',
      `${e instanceof Error ? e.message : String(e)}\n\nDatabase: ${databaseLocation === null ? '(not resolved)' : describeDatabaseLocation(databaseLocation)}`,
    );
    app.exit(1);
    return;
  }
  service = running;
  // Results queued for the LIS before a restart (or a crash) go out now; new sign-offs wake the loop.
  running.lisDelivery.start();
  handleCellProtocol((caseId, imageId) => running.locateCellImage(caseId, imageId));
  registerApiHandlers(running, isTrustedSender);
  registerShellHandlers({
    reportsDir: paths.reportsDir,
    isTrustedSender,
    connectToServer: (url) => switchMode({ mode: 'server', url: parseServerUrl(url), fingerprint256: null }),
  });
  Menu.setApplicationMenu(
    buildAppMenu({
      send: sendMenuCommand,
      openReport: () => void openReport(paths.reportsDir),
      openModelCard: () => void openModelCard(paths.modelDir),
      isDevelopment: !app.isPackaged,
      platform: process.platform,
    }),
  );
  mainWindow = createMainWindow();
}

if (!app.requestSingleInstanceLock()) {
  // A second MarrowCount would open the same database; bring the first window forward instead.
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.on('web-contents-created', (_event, contents) => {
    // Covers every web contents, including ones we did not create ourselves (e.g. devtools, print viewer).
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
  void app.whenReady().then(start);
  app.on('activate', () => {
    if (service && BrowserWindow.getAllWindows().length === 0) mainWindow = createMainWindow();
  });
  // (A station has no local service; closing its window quits as the local app does.)
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  let closing = false;
  app.on('will-quit', (event) => {
    if (!service || closing) return;
    // Let a running analysis stop and the database close cleanly before the process ends.
    closing = true;
    event.preventDefault();
    const stopping = service;
    service = null;
    void stopping
      .close()
      .catch((e: unknown) => console.error('MarrowCount: closing the service failed', e))
      .finally(() => app.quit());
  });
}
