// Every PostgreSQL migration, in order: one twin per SQLite migration (src/main/db/migrations), with the same version
// and name, so that a database's schema version means the same tables and rules on either engine. A test holds the
// two lists together. Never edit a released migration (its checksum is recorded); add the next number, on both.
import type { Migration } from '../../migrations';
import { pgMigration0001 } from './0001-initial';
import { pgMigration0002 } from './0002-derived-counts';
import { pgMigration0003 } from './0003-image-reimport';
import { pgMigration0004 } from './0004-embeddings-and-provisional-classes';
import { pgMigration0005 } from './0005-lis-delivery';
import { pgMigration0006 } from './0006-lab-models';
import { pgMigration0007 } from './0007-case-statuses';
import { pgMigration0008 } from './0008-review-layout';
import { pgMigration0009 } from './0009-accounts';
import { pgMigration0011 } from './0011-specimen-dates';

export const PG_MIGRATIONS: readonly Migration[] = [
  pgMigration0001,
  pgMigration0002,
  pgMigration0003,
  pgMigration0004,
  pgMigration0005,
  pgMigration0006,
  pgMigration0007,
  pgMigration0008,
  pgMigration0009,
  pgMigration0011,
];
