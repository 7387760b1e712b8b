import type { Migration } from './index';

export const migration0001: Migration = {
  version: 1,
  name: 'initial',
  sql: `SELECT 1;`,
};
