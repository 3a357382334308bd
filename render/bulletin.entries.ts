import type { BulletinDocument } from '../domain/bulletin.types';

/** A published bulletin as lists and feeds name it: its document and the address of its page. */
export interface PublishedBulletin {
  readonly document: BulletinDocument;
  readonly url: string;
}

/** Newest publication first; at the same instant by number then version, so the order never varies. */
export function newestFirst(a: PublishedBulletin, b: PublishedBulletin): number {
  const at = Date.parse(b.document.publishedAt ?? '') - Date.parse(a.document.publishedAt ?? '');
  if (at !== 0 && !Number.isNaN(at)) return at;
  const number = (b.document.sequence ?? 0) - (a.document.sequence ?? 0);
  return number !== 0 ? number : b.document.version - a.document.version;
}
