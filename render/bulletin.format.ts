/**
 * Words and formats the bulletin's public renderings share: headings in both languages, dates of
 * a period, instants in the office's zone, rates with what they are made of.
 */
import { DateTime } from 'luxon';
import type { BulletinItemKind, BulletinSummary } from '../domain/bulletin.types';
import type { Period, Ratio } from '../domain/indicator.types';
import { formatInstant } from '../domain/time';
import { type BulletinLanguage, formatPercent, formatScore } from './text';

type Words = Record<BulletinLanguage, string>;

/** Headings, in both languages: the page shows the chosen one first and the other beside it. */
export const headings = {
  summary: { 'zh-CN': '总体情况', en: 'Summary' },
  ranking: { 'zh-CN': '考核排名', en: 'Ranking' },
  criticism: { 'zh-CN': '通报批评', en: 'Public criticism' },
  exposure: { 'zh-CN': '曝光', en: 'Exposed cases' },
  notable_closure: { 'zh-CN': '典型办结案例', en: 'Notable closures' },
  trend: { 'zh-CN': '按期结案率趋势', en: 'On-time closure rate over time' },
  indicators: { 'zh-CN': '各单位指标', en: 'Indicators by department' },
  hotline: { 'zh-CN': '热线办理指标', en: 'Hotline indicators' },
  correction: { 'zh-CN': '更正说明', en: 'Correction' },
  versions: { 'zh-CN': '版本记录', en: 'Versions' },
  data: { 'zh-CN': '数据与订阅', en: 'Data and subscription' },
  index: { 'zh-CN': '定期通报', en: 'Bulletins' },
} satisfies Record<string, Words>;
export type HeadingKey = keyof typeof headings;

/** Labels of figures, columns and links, in each language. */
export const words = {
  number: { 'zh-CN': '期号', en: 'Issue' },
  period: { 'zh-CN': '通报期间', en: 'Period' },
  published: { 'zh-CN': '发布时间', en: 'Published' },
  draft: { 'zh-CN': '草稿（未发布）', en: 'Draft (not published)' },
  version: { 'zh-CN': '版本', en: 'Version' },
  thisVersion: { 'zh-CN': '本版', en: 'this version' },
  correctedVersion: { 'zh-CN': '更正版', en: 'corrected' },
  rank: { 'zh-CN': '名次', en: 'Rank' },
  department: { 'zh-CN': '单位', en: 'Department' },
  score: { 'zh-CN': '考核得分', en: 'Score' },
  deductions: { 'zh-CN': '扣分情况', en: 'Deductions' },
  none: { 'zh-CN': '无', en: 'none' },
  noItems: { 'zh-CN': '本期无。', en: 'None this period.' },
  noData: { 'zh-CN': '无数据', en: 'n/a' },
  caseId: { 'zh-CN': '案件编号', en: 'Case' },
  title: { 'zh-CN': '事项', en: 'Case title' },
  reason: { 'zh-CN': '情况', en: 'Details' },
  tasksAssigned: { 'zh-CN': '交办任务', en: 'Tasks assigned' },
  ackOnTimeRate: { 'zh-CN': '签收及时率', en: 'Acknowledged on time' },
  closureRate: { 'zh-CN': '结案率', en: 'Closure rate' },
  onTimeClosureRate: { 'zh-CN': '按期结案率', en: 'Closed on time' },
  reworkRate: { 'zh-CN': '返工率', en: 'Rework rate' },
  extensionRate: { 'zh-CN': '延期率', en: 'Extension rate' },
  daysToClose: { 'zh-CN': '办结用时（工作日，平均 / P90）', en: 'Working days to close (mean / p90)' },
  overdueAtEnd: { 'zh-CN': '期末逾期', en: 'Overdue at end' },
  responseRate: { 'zh-CN': '响应率', en: 'Response rate' },
  resolutionRate: { 'zh-CN': '解决率', en: 'Resolution rate' },
  satisfactionRate: { 'zh-CN': '满意率', en: 'Satisfaction rate' },
  json: { 'zh-CN': '本期数据（JSON）', en: 'This bulletin as JSON' },
  feed: { 'zh-CN': '订阅通报（Atom）', en: 'Subscribe (Atom feed)' },
  switchTo: { 'zh-CN': '中文版', en: 'English' },
  rankingFigure: { 'zh-CN': '图1 考核得分排名', en: 'Figure 1. Assessment scores' },
  trendFigure: { 'zh-CN': '图2 按期结案率趋势', en: 'Figure 2. On-time closure rate' },
  rateNote: {
    'zh-CN': '比率后括号内为分子/分母；分母为 0 时记为“无数据”。时间为',
    en: 'Each rate is followed by numerator/denominator; “n/a” where there was nothing to rate. Times are in',
  },
  noBulletins: { 'zh-CN': '尚无已发布的通报。', en: 'No bulletin has been published yet.' },
} satisfies Record<string, Words>;

/** What the summary's figures are called. */
export const summaryLabels: Record<keyof BulletinSummary, Words> = {
  casesOpened: { 'zh-CN': '新立案件', en: 'Cases opened' },
  casesClosed: { 'zh-CN': '办结案件', en: 'Cases closed' },
  tasksAssigned: { 'zh-CN': '交办任务', en: 'Tasks assigned' },
  tasksClosed: { 'zh-CN': '办结任务', en: 'Tasks closed' },
  tasksClosedOnTime: { 'zh-CN': '按期办结任务', en: 'Tasks closed on time' },
  overdueAtEnd: { 'zh-CN': '期末逾期任务', en: 'Tasks overdue at period end' },
  onTimeClosureRate: { 'zh-CN': '按期结案率', en: 'On-time closure rate' },
};

export const itemKinds: readonly BulletinItemKind[] = ['criticism', 'exposure', 'notable_closure'];

const rungNames: Record<string, Words> = {
  '1': { 'zh-CN': '催办', en: 'reminder' },
  '2': { 'zh-CN': '督办', en: 'supervision notice' },
  '3': { 'zh-CN': '通报批评', en: 'public criticism' },
  '4': { 'zh-CN': '约谈', en: 'accountability interview' },
};
const deductionNames: Record<string, Words> = {
  criticism: { 'zh-CN': '通报批评', en: 'public criticism' },
  exposure: { 'zh-CN': '曝光', en: 'exposure' },
  rework: { 'zh-CN': '返工', en: 'rework' },
  reopened: { 'zh-CN': '重办', en: 'reopened' },
  interview: { 'zh-CN': '约谈', en: 'interview' },
  late_acknowledgement: { 'zh-CN': '签收超时', en: 'late acknowledgement' },
  extension: { 'zh-CN': '延期', en: 'extension' },
  dissatisfaction: { 'zh-CN': '群众不满意', en: 'dissatisfied complainants' },
};

/** A deduction's reason as people read it: the known ones by name, any other by its key. */
export function deductionLabel(key: string, lang: BulletinLanguage): string {
  const rung = /^overdue_rung_([1-4])$/.exec(key);
  if (rung?.[1]) {
    const name = rungNames[rung[1]]?.[lang] ?? '';
    return lang === 'zh-CN' ? `逾期${name}` : `overdue (${name})`;
  }
  return Object.hasOwn(deductionNames, key) ? (deductionNames[key]?.[lang] ?? key) : key;
}

/** Deductions as one line, largest first then by key, e.g. 逾期督办 −4；通报批评 −2. */
export function formatDeductions(deductions: Readonly<Record<string, number>>, lang: BulletinLanguage): string {
  const entries = Object.entries(deductions)
    .filter(([, points]) => points !== 0)
    .sort(([ka, a], [kb, b]) => b - a || (ka < kb ? -1 : ka > kb ? 1 : 0));
  if (entries.length === 0) return words.none[lang];
  return entries.map(([key, points]) => `${deductionLabel(key, lang)} −${formatScore(points)}`).join(lang === 'zh-CN' ? '；' : '; ');
}

/** A rate and what it is made of, e.g. { percent: '77.8%', parts: '7/9' }; n/a when nothing to rate. */
export function formatRatio(ratio: Ratio, lang: BulletinLanguage): { percent: string; parts: string } {
  return {
    percent: ratio.value === null ? words.noData[lang] : formatPercent(ratio.value),
    parts: `${ratio.numerator}/${ratio.denominator}`,
  };
}

/** A rate that may be missing. */
export function formatRate(value: number | null, lang: BulletinLanguage): string {
  return value === null ? words.noData[lang] : formatPercent(value);
}

/** A calendar date (YYYY-MM-DD) as people write it: 2026年11月16日 / 16 November 2026. */
export function formatDate(date: string, lang: BulletinLanguage): string {
  const day = DateTime.fromISO(date, { zone: 'utc' });
  if (!day.isValid) return date;
  return lang === 'zh-CN' ? day.toFormat("yyyy'年'M'月'd'日'") : day.setLocale('en-GB').toFormat('d MMMM yyyy');
}

/** A period, both ends included. */
export function formatPeriod(period: Period, lang: BulletinLanguage): string {
  return lang === 'zh-CN'
    ? `${formatDate(period.from, lang)}至${formatDate(period.to, lang)}`
    : `${formatDate(period.from, lang)} – ${formatDate(period.to, lang)}`;
}

/**
 * An instant in the office's zone, for people (2026年11月25日 19:30（UTC+08:00）) and for
 * machines (the ISO 8601 form with that zone's offset, for a <time> element).
 */
export function formatPublished(iso: string, zone: string, lang: BulletinLanguage): { text: string; iso: string } {
  const at = DateTime.fromISO(iso, { setZone: true }).setZone(zone);
  if (!at.isValid) return { text: iso, iso };
  const offset = `UTC${at.toFormat('ZZ')}`;
  const text =
    lang === 'zh-CN'
      ? `${at.toFormat("yyyy'年'M'月'd'日' HH:mm")}（${offset}）`
      : `${at.setLocale('en-GB').toFormat('d MMMM yyyy, HH:mm')} (${offset})`;
  return { text, iso: formatInstant(iso, zone) };
}
