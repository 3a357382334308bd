/**
 * A bulletin (定期通报) as a public HTML5 page, and the list of published bulletins: pure
 * functions of the document and the caller's options (no database, no clock), for a route to
 * send as they are. The page holds no script and no external asset, and prints on A4.
 */
import path from 'node:path';
import { Eta } from 'eta';
import type { BulletinDocument, BulletinItem } from '../domain/bulletin.types';
import { projectRoot } from '../scripts/binaries';
import {
  formatDeductions,
  formatPeriod,
  formatPublished,
  formatRate,
  formatRatio,
  type HeadingKey,
  headings,
  itemKinds,
  summaryLabels,
  words,
} from './bulletin.format';
import { accentColour, rankingChartSvg, trendChartSvg } from './charts';
import { newestFirst, type PublishedBulletin } from './bulletin.entries';
import { type BulletinLanguage, cleanStrings, formatScore, otherLanguage, publicText, safeHref } from './text';

export type { PublishedBulletin } from './bulletin.entries';

/** Another version of the same bulletin (a correction, or the one it corrects), to link to. */
export interface BulletinVersionLink {
  readonly version: number;
  readonly publishedAt: string;
  readonly correctionReason: string | null;
  readonly url: string;
}

/** How to render a bulletin page: for whom (language, zone), by whom, and where its other forms are. */
export interface BulletinHtmlOptions {
  /** The language shown first; the page links to the other (`?lang=`). */
  readonly lang: BulletinLanguage;
  /** The office's time zone, e.g. Asia/Shanghai: the published time is shown in it. */
  readonly zone: string;
  /** The office that publishes, at the top of the page (e.g. 某某区创建文明城市工作办公室). */
  readonly officeName: string;
  readonly jsonUrl: string;
  readonly feedUrl: string;
  /** Every published version of this bulletin (this one included), for a correction's links. */
  readonly versions?: readonly BulletinVersionLink[];
  /** The list of bulletins, linked from the page when given. */
  readonly indexUrl?: string;
}

/** How to render the list of bulletins. */
export interface BulletinIndexOptions {
  readonly lang: BulletinLanguage;
  readonly zone: string;
  readonly officeName: string;
  readonly feedUrl: string;
}

let engine: Eta | undefined;

/** The templates under templates/bulletin, escaping every value unless written with `<%~`. */
function eta(): Eta {
  engine ??= new Eta({ views: path.join(projectRoot(), 'templates', 'bulletin'), autoEscape: true, cache: true });
  return engine;
}

function heading(key: HeadingKey, lang: BulletinLanguage) {
  const other = otherLanguage(lang);
  return { primary: headings[key][lang], secondary: headings[key][other], lang: other };
}

function allHeadings(lang: BulletinLanguage) {
  return Object.fromEntries((Object.keys(headings) as HeadingKey[]).map((key) => [key, heading(key, lang)])) as Record<
    HeadingKey,
    ReturnType<typeof heading>
  >;
}

function label(lang: BulletinLanguage) {
  return Object.fromEntries(Object.entries(words).map(([key, value]) => [key, value[lang]])) as Record<keyof typeof words, string>;
}

/** What the page's frame shows on every page: language, the office, the switch of language. */
function frame(lang: BulletinLanguage, officeName: string) {
  const other = otherLanguage(lang);
  return {
    lang,
    accent: accentColour,
    officeName,
    headings: allHeadings(lang),
    w: label(lang),
    switchLink: { href: `?lang=${other}`, lang: other, text: words.switchTo[other] },
  };
}

function itemView(item: BulletinItem) {
  return { caseId: item.caseId, departmentName: item.departmentName, title: item.title, summary: item.summary };
}

/**
 * The page of one bulletin version: title, number, period, published time in the office's zone,
 * summary figures, ranking (table and chart), 通报批评, 曝光, notable closures, trend chart,
 * indicators per department, and for a correction its reason and the other versions.
 */
export function renderBulletinHtml(given: BulletinDocument, options: BulletinHtmlOptions): string {
  const doc = cleanStrings(given);
  const { lang, zone } = options;
  const opts = cleanStrings({ officeName: options.officeName, jsonUrl: options.jsonUrl, feedUrl: options.feedUrl, indexUrl: options.indexUrl ?? null });
  const versions = cleanStrings([...(options.versions ?? [])]).sort((a, b) => a.version - b.version);
  const ranking = [...doc.ranking].sort((a, b) => a.rank - b.rank);
  const indicators = [...doc.indicators];
  const byKind = Object.fromEntries(itemKinds.map((kind) => [kind, doc.items.filter((item) => item.kind === kind).map(itemView)]));
  const view = {
    ...frame(lang, opts.officeName),
    title: doc.title,
    number: doc.number,
    version: doc.version,
    period: { from: doc.period.from, to: doc.period.to, text: formatPeriod(doc.period, lang) },
    published: doc.publishedAt === null ? null : formatPublished(doc.publishedAt, zone, lang),
    zone,
    summary: (Object.keys(summaryLabels) as (keyof typeof summaryLabels)[]).map((key) => ({
      label: summaryLabels[key][lang],
      value: key === 'onTimeClosureRate' ? formatRate(doc.summary.onTimeClosureRate, lang) : String(doc.summary[key]),
    })),
    ranking: ranking.map((entry) => ({
      rank: entry.rank,
      departmentName: entry.departmentName,
      score: formatScore(entry.score),
      deductions: formatDeductions(entry.deductions, lang),
      onTimeClosureRate: formatRate(entry.onTimeClosureRate, lang),
    })),
    rankingSvg: ranking.length > 0 ? rankingChartSvg(ranking, lang) : null,
    items: itemKinds.map((kind) => ({ kind, heading: heading(kind, lang), items: byKind[kind] ?? [] })),
    trendSvg: doc.trend.length > 0 ? trendChartSvg(doc.trend, lang) : null,
    indicators: indicators.map((row) => ({
      departmentName: row.departmentName,
      tasksAssigned: row.counts.tasksAssigned,
      ackOnTimeRate: formatRatio(row.ackOnTimeRate, lang),
      closureRate: formatRatio(row.closureRate, lang),
      onTimeClosureRate: formatRatio(row.onTimeClosureRate, lang),
      reworkRate: formatRatio(row.reworkRate, lang),
      extensionRate: formatRatio(row.extensionRate, lang),
      daysToClose: `${row.workingDaysToClose.mean === null ? words.noData[lang] : row.workingDaysToClose.mean.toFixed(1)} / ${
        row.workingDaysToClose.p90 === null ? words.noData[lang] : formatScore(row.workingDaysToClose.p90)
      }`,
      overdueAtEnd: Object.values(row.overdueByRung).reduce((sum, n) => sum + n, 0),
      responseRate: formatRatio(row.hotline.responseRate, lang),
      resolutionRate: formatRatio(row.hotline.resolutionRate, lang),
      satisfactionRate: formatRatio(row.hotline.satisfactionRate, lang),
    })),
    correctionReason: doc.correctionReason,
    versions: versions.map((v) => ({
      version: v.version,
      published: formatPublished(v.publishedAt, zone, lang),
      correctionReason: v.correctionReason,
      href: safeHref(v.url),
      current: v.version === doc.version,
    })),
    jsonHref: safeHref(opts.jsonUrl),
    feedHref: safeHref(opts.feedUrl),
    indexHref: opts.indexUrl === null ? null : safeHref(opts.indexUrl),
  };
  return eta().render('./page', view);
}

/** The list of published bulletins, newest first: number, period, published time and a link. */
export function renderBulletinIndexHtml(entries: readonly PublishedBulletin[], options: BulletinIndexOptions): string {
  const { lang, zone } = options;
  const published = cleanStrings(entries.filter((entry) => entry.document.publishedAt !== null)).sort(newestFirst);
  const view = {
    ...frame(lang, publicText(options.officeName)),
    feedHref: safeHref(publicText(options.feedUrl)),
    entries: published.map(({ document: doc, url }) => ({
      number: doc.number ?? '',
      title: doc.title,
      version: doc.version,
      corrected: doc.correctionReason !== null,
      period: { from: doc.period.from, to: doc.period.to, text: formatPeriod(doc.period, lang) },
      published: formatPublished(doc.publishedAt ?? '', zone, lang),
      href: safeHref(url),
    })),
  };
  return eta().render('./index', view);
}
