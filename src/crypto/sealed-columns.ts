/**
 * The registry of every column that holds vault-sealed values. Key rotation, `keys status`,
 * `keys retire` and `doctor --security` walk this list, so a sealed column missing here would be
 * left under an old key (and break when that key is removed).
 *
 * The rule every entry follows: the value was sealed with AAD
 *   { table: <table>, column: <column>, rowId: String(<idColumn>) }
 * and the id column is the table's unique, immutable key. Adding a sealed column is one line below.
 * Tables that do not exist (yet) in a database are skipped, so entries may precede their migration.
 */
import { SwitchboardError } from '../core/errors.ts';

/** One sealed column: where it is and which column names its row in the AAD. */
export interface SealedColumn {
  readonly table: string;
  readonly column: string;
  readonly idColumn: string;
}

/** Every sealed column, one line each. */
export const SEALED_COLUMNS: readonly SealedColumn[] = Object.freeze([
  { table: 'messages', column: 'original_sealed', idColumn: 'id' },
  { table: 'installations', column: 'credentials_sealed', idColumn: 'id' },
  { table: 'user_totp', column: 'secret_sealed', idColumn: 'user_id' },
]);

/** SQL identifiers in this registry are spliced into statements, so they must be plain names. */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Quotes a registry identifier after checking it (identifiers cannot be bind parameters). */
export function quoteIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new SwitchboardError('internal', 'Unsafe SQL identifier in the sealed-column registry', { context: { length: name.length } });
  }
  return `"${name}"`;
}

/** `table.column`, for reports. */
export function sealedColumnName(column: SealedColumn): string {
  return `${column.table}.${column.column}`;
}
