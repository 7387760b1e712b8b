// Picks the transport: the Electron preload's object when present, otherwise loopback HTTP.
import type { MarrowApi } from '../../../shared/api';
import { createHttpApi } from './http-client';

let instance: MarrowApi | null = null;

export function getApi(): MarrowApi {
  if (instance === null) instance = window.marrowcount ?? createHttpApi();
  return instance;
}

export function getShell() {
  return window.marrowShell;
}

export { MarrowApiError } from '../../../shared/api';
