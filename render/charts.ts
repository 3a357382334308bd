/**
 * The bulletin's charts, drawn on the server as SVG by Apache ECharts' SSR renderer: no script,
 * no external asset, the same bytes for the same input, sized for an A4 page.
 */
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';
import type { RankingEntry, TrendPoint } from '../domain/bulletin.types';
import { type BulletinLanguage, escapeXml, formatPercent, formatScore, oneLine } from './text';

echarts.use([BarChart, LineChart, GridComponent, SVGRenderer]);

/** The one accent colour of the bulletin (its rules, bars and lines). */
export const accentColour = '#9e1b1b';
const textColour = '#000000';
const ruleColour = '#8c8c8c';
const fontFamily = "'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', 'SimHei', sans-serif";

/** Width in CSS pixels: the text width of an A4 page with 20 mm margins (170 mm at 96 dpi). */
export const chartWidth = 640;

const labels = {
  'zh-CN': {
    ranking: '考核得分排名',
    rankingEmpty: '本期无排名数据',
    trend: '按期结案率趋势',
    trendEmpty: '无趋势数据',
    score: '得分',
    noData: '无数据',
    departments: (n: number) => `共 ${n} 个单位，按得分从高到低`,
    periods: (n: number) => `共 ${n} 期，从早到晚`,
    separator: '；',
    colon: '：',
  },
  en: {
    ranking: 'Assessment score ranking',
    rankingEmpty: 'No ranking this period',
    trend: 'On-time closure rate trend',
    trendEmpty: 'No trend data',
    score: 'score',
    noData: 'no data',
    departments: (n: number) => `${n} departments, highest score first`,
    periods: (n: number) => `${n} periods, oldest first`,
    separator: '; ',
    colon: ': ',
  },
} as const;

/**
 * Draws `option` into an SVG string and makes it fit to stand inline in an HTML page: an
 * accessible name (`aria-label`, `<title>`) and a description listing the data, ids and classes
 * under `idPrefix` (zrender numbers its instances, which would make two renders differ and two
 * charts on one page collide), and no hover styles (the page is read and printed, not pointed at).
 */
function renderSvg(option: echarts.EChartsCoreOption, size: { width: number; height: number }, idPrefix: string, name: string, description: string): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: size.width, height: size.height });
  let svg: string;
  try {
    chart.setOption(option);
    svg = chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
  const accessible = `<title>${escapeXml(name)}</title><desc>${escapeXml(description)}</desc>`;
  return svg
    .replace(/<style[^>]*>[\s\S]*?<\/style>\s*/g, '')
    .replace(/\s(?:class|ecmeta_[a-z_]+)="[^"]*"/g, '')
    .replace(/\bzr\d+-/g, `${idPrefix}-`)
    .replace(/^<svg /, `<svg role="img" aria-label="${escapeXml(name)}" `)
    .replace(/^(<svg[^>]*>)/, `$1\n${accessible}`)
    .trim();
}

const axisText = { color: textColour, fontFamily, fontSize: 12 };

/**
 * Horizontal bars of the composite score per department, best first (by rank), each labelled
 * with its score: an SVG string for print, with a title and a description of every bar.
 */
export function rankingChartSvg(ranking: readonly RankingEntry[], lang: BulletinLanguage): string {
  const l = labels[lang];
  const entries = [...ranking].sort((a, b) => a.rank - b.rank || a.departmentCode.localeCompare(b.departmentCode));
  const names = entries.map((entry) => oneLine(entry.departmentName));
  const scores = entries.map((entry) => entry.score);
  const height = 60 + Math.max(1, entries.length) * 30;
  const lowest = Math.min(0, ...scores);
  const option: echarts.EChartsCoreOption = {
    animation: false,
    backgroundColor: '#ffffff',
    textStyle: { fontFamily, color: textColour },
    grid: { left: 8, right: 56, top: 12, bottom: 28 },
    xAxis: {
      type: 'value',
      min: lowest,
      axisLabel: { ...axisText, formatter: (value: number) => formatScore(value) },
      axisLine: { show: true, lineStyle: { color: ruleColour } },
      splitLine: { lineStyle: { color: '#d9d9d9' } },
      name: l.score,
      nameLocation: 'end',
      nameTextStyle: axisText,
    },
    yAxis: {
      type: 'category',
      inverse: true,
      data: names,
      // A long name wraps onto a second line rather than losing its end.
      axisLabel: { ...axisText, width: 168, overflow: 'break', lineHeight: 14, formatter: (value: string) => value },
      axisLine: { lineStyle: { color: ruleColour } },
      axisTick: { show: false },
    },
    series: [
      {
        type: 'bar',
        data: scores,
        barMaxWidth: 18,
        silent: true,
        emphasis: { disabled: true },
        itemStyle: { color: accentColour },
        label: {
          show: true,
          position: 'right',
          color: textColour,
          fontFamily,
          fontSize: 12,
          formatter: (params: { value: unknown }) => formatScore(Number(params.value)),
        },
      },
    ],
  };
  const name = entries.length === 0 ? l.ranking + l.colon + l.rankingEmpty : `${l.ranking}${l.colon}${l.departments(entries.length)}`;
  const description = entries
    .map((entry, i) => `${entry.rank}. ${names[i] ?? ''} ${formatScore(entry.score)}`)
    .join(l.separator);
  return renderSvg(option, { width: chartWidth, height }, 'bulletin-ranking', name, description || l.rankingEmpty);
}

/**
 * 按期结案率 per period as a line on a 0–100 % axis, oldest first, with a gap where a period has
 * nothing to rate (null): an SVG string for print, with a title and a description of every point.
 */
export function trendChartSvg(trend: readonly TrendPoint[], lang: BulletinLanguage): string {
  const l = labels[lang];
  const periodLabels = trend.map((point) => oneLine(point.label));
  // Percent with one decimal, as the tables show it; '-' is ECharts' empty value (a gap in the line).
  const values = trend.map((point) => (point.onTimeClosureRate === null ? '-' : Math.round(point.onTimeClosureRate * 1000) / 10));
  const option: echarts.EChartsCoreOption = {
    animation: false,
    backgroundColor: '#ffffff',
    textStyle: { fontFamily, color: textColour },
    grid: { left: 8, right: 24, top: 28, bottom: 8 },
    xAxis: {
      type: 'category',
      data: periodLabels,
      boundaryGap: true,
      axisLabel: { ...axisText, interval: 0, formatter: (value: string) => value },
      axisLine: { lineStyle: { color: ruleColour } },
      axisTick: { alignWithLabel: true },
    },
    yAxis: {
      type: 'value',
      min: 0,
      max: 100,
      interval: 20,
      axisLabel: { ...axisText, formatter: (value: number) => `${value}%` },
      axisLine: { show: true, lineStyle: { color: ruleColour } },
      splitLine: { lineStyle: { color: '#d9d9d9' } },
    },
    series: [
      {
        type: 'line',
        data: values,
        connectNulls: false,
        silent: true,
        emphasis: { disabled: true },
        symbol: 'circle',
        symbolSize: 6,
        lineStyle: { color: accentColour, width: 2 },
        itemStyle: { color: accentColour },
        label: {
          show: true,
          position: 'top',
          color: textColour,
          fontFamily,
          fontSize: 12,
          formatter: (params: { value: unknown }) => `${Number(params.value).toFixed(1)}%`,
        },
      },
    ],
  };
  const name = trend.length === 0 ? l.trend + l.colon + l.trendEmpty : `${l.trend}${l.colon}${l.periods(trend.length)}`;
  const description = trend
    .map((point, i) => `${periodLabels[i] ?? ''} ${point.onTimeClosureRate === null ? l.noData : formatPercent(point.onTimeClosureRate)}`)
    .join(l.separator);
  return renderSvg(option, { width: chartWidth, height: 280 }, 'bulletin-trend', name, description || l.trendEmpty);
}
