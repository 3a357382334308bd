/**
 * The first `n` characters of `text`, counted in code points, so that a cut never splits a
 * character outside the Basic Multilingual Plane (an emoji, a rare 汉字) into half a surrogate pair.
 */
export function leadingCharacters(text: string, n: number): string {
  let out = '';
  let count = 0;
  for (const character of text) {
    if (count++ === n) break;
    out += character;
  }
  return out;
}
