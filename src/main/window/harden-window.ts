// Navigation and pop-up rules for every window MarrowCount opens. The renderer shows local clinical data and has a
// bridge to the main process: it must never be replaced by another page (a link, a redirect, a dropped file) nor
// open new windows, whatever its own code does.
import type { BrowserWindow, Event as ElectronEvent } from 'electron';
import { documentUrl } from './renderer-origin';

/** Denies pop-ups and any navigation away from the document the window was given (currentUrl). */
export function hardenWindow(window: BrowserWindow, currentUrl: () => string): void {
  const contents = window.webContents;
  contents.setWindowOpenHandler(({ url }) => {
    console.warn(`MarrowCount: refused to open a window for ${url}`);
    return { action: 'deny' };
  });
  const guard = (event: ElectronEvent, url: string): void => {
    if (documentUrl(url) === documentUrl(currentUrl())) return;
    console.warn(`MarrowCount: refused navigation to ${url}`);
    event.preventDefault();
  };
  contents.on('will-navigate', (event, url) => guard(event, url));
  contents.on('will-redirect', (event, url) => guard(event, url));
  contents.on('will-attach-webview', (event) => event.preventDefault());
}
