// Every migration, in order. Migrations are SQL embedded in .ts modules (not .sql files) so that the very same text
// is in the electron-vite bundle, under Vitest and under tsx (the CLI, the benchmark, the crash-test child),
// with no loader plugin. Never edit a released migration: its checksum is recorded in every database it migrated,
// and openDatabase refuses a database whose history does not match. Add a new numbered file instead.
import { migration0001 } from './0001-initial';
import { migration0002 } from './0002-derived-counts';
import { migration0003 } from './0003-image-reimport';
import { migration0004 } from './0004-embeddings-and-provisional-classes';
import { migration0005 } from './0005-lis-delivery';
import { migration0006 } from './0006-lab-models';
import { migration0007 } from './0007-case-statuses';
import { migration0008 } from './0008-review-layout';
import { migration0009 } from './0009-accounts';
import { migration0011 } from './0011-specimen-dates';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  migration0001,
  migration0002,
  migration0003,
  migration0004,
  migration0005,
  migration0006,
  migration0007,
  migration0008,
  migration0009,
  migration0011,
];
