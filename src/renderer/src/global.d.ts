import type { MarrowApi } from '../../shared/api';
import type { MarrowShell } from '../../shared/shell';

declare global {
  interface Window {
    /** The Electron preload's implementation of the API contract; absent in a plain browser. */
    marrowcount?: MarrowApi;
    /** Desktop-shell services; absent in a plain browser (the loopback test host). */
    marrowShell?: MarrowShell;
  }
}

export {};
