/**
 * Reading what Json.NET writes for iMIS (docs/imis-api.md §2): objects tagged with `$type`, typed
 * values `{ "$type": ..., "$value": x }` and .NET collections `{ "$type": ..., "$values": [...] }`.
 * Used by the client modules and by the emulator alike.
 */

/** A JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The items of a .NET collection: `{ "$type": ..., "$values": [...] }`, or a bare array (what
 * lenient clients send and some iMIS answers hold). Undefined for anything else.
 */
export function collectionItems(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (isRecord(value) && Array.isArray(value.$values)) return value.$values;
  return undefined;
}

/** The `x` of a typed value `{ "$type": ..., "$value": x }`; any other value as it is. */
export function typedValue(value: unknown): unknown {
  return isRecord(value) && '$value' in value ? value.$value : value;
}
