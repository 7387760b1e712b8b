import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('marrowcount', { ready: true });
