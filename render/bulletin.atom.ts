/**
 * The published bulletins as an Atom 1.0 feed (RFC 4287): one entry per published version, so a
 * correction reaches subscribers as an entry of its own. A pure function of its input: the feed's
 * `updated` is the newest publication, never the clock.
 */
import type { BulletinDocument } from '../domain/bulletin.types';
import { formatInstant } from '../domain/time';
import { formatPeriod, formatRate, headings, summaryLabels, words } from './bulletin.format';
import { newestFirst, type PublishedBulletin } from './bulletin.entries';
import { type BulletinLanguage, cleanStrings, escapeXml } from './text';

/** How to write the feed: who publishes, where it and its list live, and how its ids are minted. */
export interface BulletinFeedOptions {
  readonly lang: BulletinLanguage;
  /** The office's time zone: instants are written with its offset. */
  readonly zone: string;
  readonly officeName: string;
  /** The feed's own address (link rel="self"). */
  readonly selfUrl: string;
  /** The HTML list of bulletins (link rel="alternate"). */
  readonly indexUrl: string;
  /**
   * The tagging entity of the feed's tag: URIs (RFC 4151), an authority the office holds and a
   * date it held it, e.g. `wmb.example.gov.cn,2026`. Keep it fixed: the ids are made from it.
   */
  readonly tagEntity: string;
  /** `updated` of a feed with no entry yet (Atom requires one), e.g. when publishing began. */
  readonly emptyUpdated?: string;
}

/** The stable id of a bulletin version: tag:<entity>:bulletin/<number>/v<version>. */
export function bulletinEntryId(tagEntity: string, number: string, version: number): string {
  return `tag:${tagEntity}:bulletin/${encodeURIComponent(number)}/v${version}`;
}

/** One line that tells a subscriber what the bulletin holds. */
function entrySummary(doc: BulletinDocument, lang: BulletinLanguage): string {
  const s = doc.summary;
  const figures = (['casesOpened', 'casesClosed', 'overdueAtEnd'] as const).map((key) => `${summaryLabels[key][lang]} ${s[key]}`);
  figures.push(`${summaryLabels.onTimeClosureRate[lang]} ${formatRate(s.onTimeClosureRate, lang)}`);
  const counts = (['criticism', 'exposure'] as const).map(
    (kind) => `${headings[kind][lang]} ${doc.items.filter((item) => item.kind === kind).length}`,
  );
  const sep = lang === 'zh-CN' ? '，' : ', ';
  const lead = `${formatPeriod(doc.period, lang)}${lang === 'zh-CN' ? '：' : ': '}`;
  const correction =
    doc.correctionReason === null ? '' : `${lang === 'zh-CN' ? '。' : '. '}${headings.correction[lang]}${lang === 'zh-CN' ? '：' : ': '}${doc.correctionReason}`;
  return `${lead}${[...figures, ...counts].join(sep)}${correction}`;
}

/** The Atom feed of published bulletin versions, newest first (drafts are left out). */
export function renderBulletinFeed(entries: readonly PublishedBulletin[], options: BulletinFeedOptions): string {
  const { lang, zone } = options;
  const opts = cleanStrings({ officeName: options.officeName, selfUrl: options.selfUrl, indexUrl: options.indexUrl, tagEntity: options.tagEntity });
  const published = cleanStrings(entries.filter((entry) => entry.document.publishedAt !== null && entry.document.number !== null)).sort(newestFirst);
  const newest = published[0]?.document.publishedAt ?? options.emptyUpdated ?? '1970-01-01T00:00:00Z';
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${escapeXml(lang)}">`,
    `  <id>${escapeXml(`tag:${opts.tagEntity}:bulletins`)}</id>`,
    `  <title>${escapeXml(`${opts.officeName} ${headings.index[lang]}`)}</title>`,
    `  <updated>${escapeXml(formatInstant(newest, zone))}</updated>`,
    `  <author><name>${escapeXml(opts.officeName)}</name></author>`,
    `  <link rel="self" type="application/atom+xml" href="${escapeXml(opts.selfUrl)}"/>`,
    `  <link rel="alternate" type="text/html" href="${escapeXml(opts.indexUrl)}"/>`,
  ];
  for (const { document: doc, url } of published) {
    const at = formatInstant(doc.publishedAt ?? '', zone);
    const number = doc.number ?? '';
    const title = doc.version > 1 ? `${number} ${doc.title}（${words.correctedVersion[lang]} ${words.version[lang]} ${doc.version}）` : `${number} ${doc.title}`;
    lines.push(
      '  <entry>',
      `    <id>${escapeXml(bulletinEntryId(opts.tagEntity, number, doc.version))}</id>`,
      `    <title type="text">${escapeXml(title)}</title>`,
      `    <published>${escapeXml(at)}</published>`,
      `    <updated>${escapeXml(at)}</updated>`,
      `    <link rel="alternate" type="text/html" href="${escapeXml(url)}"/>`,
      `    <summary type="text">${escapeXml(entrySummary(doc, lang))}</summary>`,
      '  </entry>',
    );
  }
  lines.push('</feed>', '');
  return lines.join('\n');
}
