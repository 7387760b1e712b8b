// Session-wide rules: no permission is ever granted (camera, notifications, geolocation… MarrowCount needs none),
// and every response to the renderer carries the CSP header as well as index.html's <meta> tag.
import type { Session } from 'electron';
import { SECURITY_HEADERS } from '../security/content-security-policy';

/** isOurs: whether a response is for our renderer; other pages (Chromium's PDF viewer for printing) keep their own policy. */
export function hardenSession(session: Session, isOurs: (url: string) => boolean): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    console.warn(`MarrowCount: denied permission request "${permission}"`);
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
  session.webRequest.onHeadersReceived((details, callback) => {
    if (!isOurs(details.url)) {
      callback({});
      return;
    }
    const headers = { ...details.responseHeaders };
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      // Replace, never append: a second, looser CSP from a dev server must not sit beside ours.
      for (const existing of Object.keys(headers)) if (existing.toLowerCase() === name.toLowerCase()) delete headers[existing];
      headers[name] = [value];
    }
    callback({ responseHeaders: headers });
  });
}
