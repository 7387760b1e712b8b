import { describe, expect, it } from 'vitest';
import { documentUrl, isRendererUrl } from '../../../../src/main/window/renderer-origin';

describe('which URLs are the MarrowCount renderer', () => {
  const built = 'file:///opt/MarrowCount/resources/app/out/renderer/index.html';

  it('accepts the built index.html with any hash route', () => {
    expect(isRendererUrl(built, built)).toBe(true);
    expect(isRendererUrl(built, `${built}#/case/3/review`)).toBe(true);
  });

  it('refuses other local files and any web origin in place of the built renderer', () => {
    expect(isRendererUrl(built, 'file:///home/user/Downloads/evil.html')).toBe(false);
    expect(isRendererUrl(built, 'file:///opt/MarrowCount/resources/app/out/renderer/other.html')).toBe(false);
    expect(isRendererUrl(built, 'https://example.com/')).toBe(false);
    expect(isRendererUrl(built, 'not a url')).toBe(false);
  });

  it('accepts only the dev server’s own origin in development', () => {
    const dev = 'http://localhost:5173/';
    expect(isRendererUrl(dev, 'http://localhost:5173/#/cases')).toBe(true);
    expect(isRendererUrl(dev, 'http://localhost:5174/')).toBe(false);
    expect(isRendererUrl(dev, 'http://localhost.evil.example:5173/')).toBe(false);
  });

  it('treats hash routes as the same document for navigation checks', () => {
    expect(documentUrl(`${built}#/cases`)).toBe(built);
    expect(documentUrl(built)).toBe(built);
  });
});
