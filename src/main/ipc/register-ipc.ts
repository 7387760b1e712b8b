// Binds every method of the API contract to the IPC channel `api:<method>`. Each handler checks that the call
// comes from our own window's top frame, validates the arguments and answers an ApiResult; it never throws,
// because Electron would flatten a thrown error to a bare message and the error's kind would be lost.
// Sessions: one per window, held here in main (the renderer never sees a token); closing the window logs it out.
import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { API_METHODS, type ApiResult, type MarrowApi } from '../../shared/api';
import type { MarrowService, SessionHolder } from '../service/types';
import { API_CHANNEL_PREFIX } from '../../shared/shell';
import { dispatch } from '../boundary/dispatch';

/** Decides whether an IPC message comes from a frame we trust (our window, our renderer's URL, the top frame). */
export type SenderCheck = (event: IpcMainInvokeEvent) => boolean;

const REFUSED: ApiResult<never> = {
  ok: false,
  error: { kind: 'internal', message: 'This call did not come from the MarrowCount window and was refused.' },
};

export function registerApiHandlers(service: Pick<MarrowService, 'forSession'>, isTrustedSender: SenderCheck): () => void {
  const windows = new Map<number, MarrowApi>();
  const apiOf = (sender: WebContents): MarrowApi => {
    let api = windows.get(sender.id);
    if (api === undefined) {
      const holder: SessionHolder = { transport: 'desktop', token: null };
      const created = service.forSession(holder);
      api = created;
      windows.set(sender.id, created);
      sender.once('destroyed', () => {
        windows.delete(sender.id);
        if (holder.token !== null) void created.logout().catch((e: unknown) => console.warn('MarrowCount: logging out a closed window failed', e));
      });
    }
    return api;
  };
  for (const method of API_METHODS) {
    ipcMain.handle(`${API_CHANNEL_PREFIX}${method}`, async (event, ...args: unknown[]) => {
      if (!isTrustedSender(event)) {
        console.warn(`MarrowCount: refused ${method} from ${event.senderFrame?.url ?? 'an unknown frame'}`);
        return REFUSED;
      }
      return dispatch(apiOf(event.sender), method, args);
    });
  }
  return () => {
    for (const method of API_METHODS) ipcMain.removeHandler(`${API_CHANNEL_PREFIX}${method}`);
  };
}
