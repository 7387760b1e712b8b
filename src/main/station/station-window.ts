// The desktop app as a thin station of a lab server: one window showing the server's own pages (the same renderer,
// served over HTTPS, talking to the server's API with the person's session cookie). No local database, no
// preload API: nothing of this PC's is reachable from the server's pages. The shell adds only what a browser does
// not: the server's certificate pinned on first use, said loudly, and refused loudly when it changes.
import { X509Certificate } from 'node:crypto';
import { app, BrowserWindow, dialog, session } from 'electron';
import { hardenSession } from '../window/harden-session';
import { hardenWindow } from '../window/harden-window';
import { pinDecision, writeStationConfig, type StationConfig } from './station-config';

/** Chromium's answers to a certificate check: 0 trust, -2 refuse, -3 use Chromium's own verification. */
const TRUST = 0;
const REFUSE = -2;
const CHROMIUM_DEFAULT = -3;

export function openStationWindow(initial: Extract<StationConfig, { mode: 'server' }>, configFile: string): BrowserWindow {
  let config = initial;
  const host = new URL(config.url).host;
  const page = `${config.url}/`;
  const stationSession = session.fromPartition('persist:lab-server');
  hardenSession(stationSession, (url) => url.startsWith(page));
  let asking: Promise<boolean> | null = null;
  let refusedShown = false;

  stationSession.setCertificateVerifyProc((request, callback) => {
    let presented: string;
    try {
      presented = new X509Certificate(request.certificate.data).fingerprint256;
    } catch {
      callback(CHROMIUM_DEFAULT);
      return;
    }
    const decision = pinDecision(config, request.hostname, presented);
    if (decision.action === 'default') callback(CHROMIUM_DEFAULT);
    else if (decision.action === 'accept') callback(TRUST);
    else if (decision.action === 'refuse-changed') {
      callback(REFUSE);
      if (!refusedShown) {
        refusedShown = true;
        dialog.showErrorBox(
          "THE LAB SERVER'S CERTIFICATE HAS CHANGED — NOT CONNECTING",
          `${host} presented a certificate this station has not seen:\n\n  now:    ${decision.presented}\n  pinned: ${decision.pinned}\n\nThis is what a machine impersonating the lab server would do. Do not go on until IT confirms the server's certificate was replaced. Then choose File ▸ Use This Computer (Local Mode) and connect again to pin the new one.`,
        );
      }
    } else {
      // One question for the several connections a page opens at once.
      asking ??= dialog
        .showMessageBox({
          type: 'warning',
          title: 'First connection to this lab server',
          message: `FIRST CONNECTION TO ${host.toUpperCase()}: CHECK ITS CERTIFICATE`,
          detail: `SHA-256 fingerprint:\n${decision.fingerprint256}\n\nCompare it, character for character, with the fingerprint the server printed when it started (or that IT gave you). This station will trust only this certificate from now on and refuse any other.`,
          buttons: ['The fingerprints match: trust this server', 'Cancel'],
          defaultId: 1,
          cancelId: 1,
          noLink: true,
        })
        .then(({ response }) => {
          if (response !== 0) return false;
          config = { ...config, fingerprint256: decision.fingerprint256 };
          writeStationConfig(configFile, config);
          return true;
        });
      void asking.then((trusted) => {
        callback(trusted ? TRUST : REFUSE);
        if (!trusted) asking = null;
      });
    }
  });

  const window = new BrowserWindow({
    width: 1400,
    height: 900,
    minWidth: 1000,
    minHeight: 700,
    title: `MarrowCount — lab server ${host}`,
    webPreferences: {
      session: stationSession,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  hardenWindow(window, () => page);
  // The window's title names the server whatever the page calls itself; the page's top bar names the person.
  window.on('page-title-updated', (event) => event.preventDefault());
  window.webContents.on('did-fail-load', (_event, code, description, url) => {
    if (code === -3) return; // aborted by a navigation of our own
    console.error(`MarrowCount station: could not load ${url}: ${description} (${code})`);
    void dialog
      .showMessageBox(window, {
        type: 'error',
        title: 'Lab server not reachable',
        message: `Could not reach the lab server ${host}.`,
        detail: `${description}. Check the network, or ask IT whether the server is running. The station tries again when you press Retry.`,
        buttons: ['Retry', 'Quit'],
      })
      .then(({ response }) => (response === 0 ? window.loadURL(page) : app.quit()));
  });
  void window.loadURL(page);
  return window;
}
