// Which URLs are "our renderer": the built index.html (file:) or, in development, the electron-vite dev server.
// IPC calls are accepted, and security headers added, only for these. Pure so that it is tested under plain Node.

/** The URL without its fragment: hash routes (#/case/1/review) are the same document. */
export function documentUrl(url: string): string {
  const hash = url.indexOf('#');
  return hash === -1 ? url : url.slice(0, hash);
}

/** True when `url` is the renderer document at `rendererUrl` (any hash route), or on the dev server's origin. */
export function isRendererUrl(rendererUrl: string, url: string): boolean {
  let expected: URL;
  let actual: URL;
  try {
    expected = new URL(rendererUrl);
    actual = new URL(url);
  } catch {
    return false;
  }
  if (expected.protocol === 'file:') {
    // Only the one file: any other local file (a dropped HTML file, a saved page) is not the app.
    return actual.protocol === 'file:' && actual.host === expected.host && decodeURIComponent(actual.pathname) === decodeURIComponent(expected.pathname);
  }
  return (expected.protocol === 'http:' || expected.protocol === 'https:') && actual.origin === expected.origin;
}
