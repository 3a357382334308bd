import { XMLBuilder } from 'fast-xml-parser';

const builder = new XMLBuilder({ ignoreAttributes: false, format: false, suppressEmptyNode: false });

/** Characters XML 1.0 cannot carry at all, even escaped (most control characters, lone surrogates). */
// eslint-disable-next-line no-control-regex -- these control characters are exactly what XML forbids
const notXml = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** `value` with every string made safe for XML text: a character XML cannot carry becomes U+FFFD. */
function xmlSafe(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(notXml, '\uFFFD');
  if (Array.isArray(value)) return value.map(xmlSafe);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, xmlSafe(v)]));
  }
  return value;
}

/**
 * An XML document with `root` holding `content`: objects become elements, arrays repeat their
 * element, null is an empty element; text is escaped.
 */
export function xmlDocument(root: string, content: unknown): string {
  return `<?xml version="1.0" encoding="utf-8"?>${builder.build({ [root]: xmlSafe(content) })}`;
}
