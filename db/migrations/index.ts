import type { Migration } from 'kysely';
import * as initial from './2026-11-25-initial';

/** Every migration, by dated name; the migrator applies them in name order. */
export const migrations: Record<string, Migration> = {
  '2026-11-25-initial': initial,
};
