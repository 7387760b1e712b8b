// The bridge between the sandboxed renderer and the main process. It exposes exactly the API contract
// (window.marrowcount) and the desktop-shell services (window.marrowShell), never ipcRenderer itself, so page
// script cannot reach any other channel. Bundled into one CommonJS file: a sandboxed preload cannot require files.
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { apiOverTransport, MarrowApiError, type ApiErrorBody, type ApiResult, type MarrowApi } from '../shared/api';
import { API_CHANNEL_PREFIX, MENU_CHANNEL, MENU_COMMANDS, SHELL_CHANNELS, type MarrowShell, type MenuCommand } from '../shared/shell';

function isApiResult(value: unknown): value is ApiResult<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { ok?: unknown }).ok === 'boolean';
}

/**
 * What a failed call rejects with. contextBridge copies an Error's message and stack only (its prototype and custom
 * properties such as `kind` are lost on the way to the page), so the rejection is a plain object of the same shape
 * as MarrowApiError, which the bridge copies whole: the renderer recognises it by shape (kind + message).
 */
function bridgeError(body: ApiErrorBody): ApiErrorBody & { name: 'MarrowApiError' } {
  const copy = new MarrowApiError(body);
  return {
    name: 'MarrowApiError',
    kind: copy.kind,
    message: copy.message,
    ...(copy.field === undefined ? {} : { field: copy.field }),
    ...(copy.detail === undefined ? {} : { detail: copy.detail }),
  };
}

async function call(method: string, args: unknown[]): Promise<unknown> {
  const result: unknown = await ipcRenderer.invoke(`${API_CHANNEL_PREFIX}${method}`, ...args);
  if (!isApiResult(result)) throw bridgeError({ kind: 'internal', message: `MarrowCount's main process gave no answer to ${method}.` });
  if (!result.ok) throw bridgeError(result.error);
  return result.value;
}

// Built from the contract's method list by apiOverTransport, whose type fails to compile unless every method of
// MarrowApi is listed with the contract's own parameters (src/shared/api.ts).
const marrowcount: MarrowApi = apiOverTransport(call);

const marrowShell = {
  chooseFolder: () => ipcRenderer.invoke(SHELL_CHANNELS.chooseFolder) as Promise<string | null>,
  chooseSavePath: (defaultName, kind) => ipcRenderer.invoke(SHELL_CHANNELS.chooseSavePath, defaultName, kind) as Promise<string | null>,
  openPath: async (path) => {
    await ipcRenderer.invoke(SHELL_CHANNELS.openPath, path);
  },
  printFile: async (path) => {
    await ipcRenderer.invoke(SHELL_CHANNELS.printFile, path);
  },
  pathForDroppedFile: (file) => {
    // Not `instanceof File`: the File arrives from the page's world through the bridge, whose constructor differs.
    // webUtils rejects anything that is not a File; that, like a file with no path on disk, means "no path".
    if (typeof file !== 'object' || file === null) return null;
    try {
      const path = webUtils.getPathForFile(file as File);
      return path === '' ? null : path;
    } catch (e) {
      console.warn('MarrowCount: the dropped item has no path on disk', e);
      return null;
    }
  },
  connectToServer: (url) => ipcRenderer.invoke(SHELL_CHANNELS.connectToServer, url) as Promise<{ ok: true } | { ok: false; message: string }>,
  onMenu: (listener) => {
    const forward = (_event: Electron.IpcRendererEvent, command: unknown): void => {
      if (typeof command === 'string' && (MENU_COMMANDS as readonly string[]).includes(command)) listener(command as MenuCommand);
    };
    ipcRenderer.on(MENU_CHANNEL, forward);
    return () => {
      ipcRenderer.removeListener(MENU_CHANNEL, forward);
    };
  },
} satisfies MarrowShell;

contextBridge.exposeInMainWorld('marrowcount', marrowcount);
contextBridge.exposeInMainWorld('marrowShell', marrowShell);
