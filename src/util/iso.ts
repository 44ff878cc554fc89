/** A time as an ISO 8601 string in UTC, or null: how every HTTP and JSON output writes times. */
export function iso(date: Date | null | undefined): string | null {
  return date ? date.toISOString() : null;
}
