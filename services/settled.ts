/**
 * Values settled for good: deep-frozen, so that nothing derived from them (their JSON text) can go
 * stale. The API's response writer keeps the JSON of a settled object and writes it again as it is
 * (api/serializer.ts); a value that is merely frozen is not trusted for that (a shallow freeze
 * leaves its members open to change).
 */
const settledValues = new WeakSet<object>();

/** Freezes `value` and everything in it, and marks it settled. */
export function settle<T extends object>(value: T): T {
  freezeDeep(value);
  settledValues.add(value);
  return value;
}

/** Whether `value` was settled by {@link settle}. */
export function isSettled(value: object): boolean {
  return settledValues.has(value);
}

function freezeDeep(value: object, seen = new Set<object>()): void {
  // Members of an object frozen before may still be open: every one is looked at.
  if (seen.has(value)) return;
  seen.add(value);
  Object.freeze(value);
  for (const member of Object.values(value)) {
    if (typeof member === 'object' && member !== null) freezeDeep(member as object, seen);
  }
}
