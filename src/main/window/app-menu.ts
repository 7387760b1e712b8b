// The application menu, following each platform's conventions: File / Edit / View / Help (plus the app menu and
// Window menu on macOS), standard accelerators (CmdOrCtrl+N new, +S save, +P print, +Q quit). Commands that need a
// screen are forwarded to the renderer as MenuCommand; the rest are done here.
import { Menu, type MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from '../../shared/shell';

export interface MenuActions {
  /** Forwards a command to the focused MarrowCount window's renderer. */
  send(command: MenuCommand): void;
  /** File ▸ Open report…: choose a saved PDF and open it in the system viewer. */
  openReport(): void;
  /** Help ▸ Open model card: the bundled model's MODEL_CARD.md in the system viewer. */
  openModelCard(): void;
  isDevelopment: boolean;
  platform: NodeJS.Platform;
  /** Present when this PC is a station of a lab server: the server's host and the way back to local mode. */
  station?: { server: string; useLocal(): void };
}

export function buildAppMenu(actions: MenuActions): Menu {
  const mac = actions.platform === 'darwin';
  const about: MenuItemConstructorOptions = { label: 'About MarrowCount', click: () => actions.send('about') };
  const template: MenuItemConstructorOptions[] = [
    ...(mac
      ? [
          {
            label: 'MarrowCount',
            submenu: [about, { type: 'separator' }, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, { type: 'separator' }, { role: 'quit' }],
          } satisfies MenuItemConstructorOptions,
        ]
      : []),
    {
      label: '&File',
      submenu: actions.station
        ? [
            // A station's pages come from the server; the local report and case commands do not apply.
            { label: `Connected to lab server ${actions.station.server}`, enabled: false },
            { label: 'Use This Computer (&Local Mode)', click: () => actions.station?.useLocal() },
            { type: 'separator' },
            mac ? { role: 'close' } : { role: 'quit', label: 'E&xit', accelerator: 'Ctrl+Q' },
          ]
        : [
            { label: '&New Case', accelerator: 'CmdOrCtrl+N', click: () => actions.send('new-case') },
            { label: '&Open Report…', accelerator: 'CmdOrCtrl+O', click: () => actions.openReport() },
            { type: 'separator' },
            { label: '&Save Report', accelerator: 'CmdOrCtrl+S', click: () => actions.send('save-report') },
            { label: '&Print Report…', accelerator: 'CmdOrCtrl+P', click: () => actions.send('print') },
            { type: 'separator' },
            mac ? { role: 'close' } : { role: 'quit', label: 'E&xit', accelerator: 'Ctrl+Q' },
          ],
    },
    {
      label: '&Edit',
      submenu: [{ role: 'undo' }, { role: 'redo' }, { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }],
    },
    {
      label: '&View',
      submenu: [
        // Reloading loses unsaved form input and developer tools expose the bridge: development builds only.
        ...(actions.isDevelopment ? ([{ role: 'reload' }, { role: 'toggleDevTools' }, { type: 'separator' }] satisfies MenuItemConstructorOptions[]) : []),
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    ...(mac ? [{ role: 'windowMenu' } satisfies MenuItemConstructorOptions] : []),
    {
      label: '&Help',
      role: 'help',
      submenu: [{ label: 'Open &Model Card', click: () => actions.openModelCard() }, ...(mac ? [] : [{ type: 'separator' } as const, about])],
    },
  ];
  return Menu.buildFromTemplate(template);
}
