/**
 * SQL identifiers as the preflight writes them into DDL: quoted, so any name a configuration gives is
 * taken literally.
 */

/** `identifier` double-quoted, with its quotes doubled. */
export const quote = (identifier: string): string => `"${identifier.replaceAll('"', '""')}"`

/** `"schema"."name"` of a table. */
export const qualified = (t: { readonly schema: string; readonly name: string }): string =>
  `${quote(t.schema)}.${quote(t.name)}`
