import type { MarrowApi } from '../../shared/api';
import type { MarrowShell } from '../../shared/shell';

/** Menu commands the desktop shell may forward to the renderer (File ▸ New case, Help ▸ About, …). */
export type MenuCommand = 'new-case' | 'about' | 'save-report' | 'print';

/**
 * The shell may add `onMenu` later; it is optional here so that the renderer works with or without it.
 * Returns an unsubscribe function when the shell provides one.
 */
export type RendererShell = MarrowShell & {
  onMenu?: (handler: (command: MenuCommand) => void) => (() => void) | void;
};

declare global {
  interface Window {
    /** The Electron preload's implementation of the API contract; absent in a plain browser. */
    marrowcount?: MarrowApi;
    /** Desktop-shell services; absent in a plain browser (the loopback test host). */
    marrowShell?: RendererShell;
  }
}

export {};
