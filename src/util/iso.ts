/** A time as an ISO 8601 string in UTC, or null: how every HTTP and JSON output writes times. */
export function iso(date: Date | null | undefined): string | null {
  return date ? date.toISOString() : null;
}

const ISO_WITH_ZONE = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/i;

/**
 * A time a person typed, accepted only as ISO 8601 with a zone (2026-12-24T00:00Z, ...+01:00):
 * without one, the same text means different instants on different machines. Undefined otherwise.
 */
export function parseIsoWithZone(text: unknown): Date | undefined {
  const at = typeof text === "string" && ISO_WITH_ZONE.test(text) ? new Date(text) : undefined;
  return at && !Number.isNaN(at.getTime()) ? at : undefined;
}
