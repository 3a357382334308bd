/** A form field as typed, trimmed; undefined when left blank. */
export type GivenField = (name: string) => string | undefined;

/** The trimmed values of a form, blank fields as undefined. */
export function givenOf(values: Readonly<Record<string, string | undefined>>): GivenField {
  return (name) => {
    const value = values[name]?.trim();
    return value ? value : undefined;
  };
}

/**
 * The location a form describes, as the API's `location` takes it: the address typed, or the
 * browser's coordinates as an address when none was typed; undefined when neither was given.
 */
export function locationOfForm(given: GivenField): { address: string; lat?: number; lng?: number } | undefined {
  const lat = Number(given('lat'));
  const lng = Number(given('lng'));
  const point = given('lat') !== undefined && given('lng') !== undefined && Number.isFinite(lat) && Number.isFinite(lng) ? { lat, lng } : undefined;
  const address = given('address') ?? (point ? `${point.lat.toFixed(6)}, ${point.lng.toFixed(6)}` : undefined);
  return address ? { address, ...(point ?? {}) } : undefined;
}
