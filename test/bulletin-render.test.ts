import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DomUtils, parseDocument, Parser } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bulletinDocumentSchema } from '../domain/bulletin.schema';
import type { BulletinDocument } from '../domain/bulletin.types';
import { presentInstants } from '../domain/time';
import { bulletinEntryId, renderBulletinFeed } from '../render/bulletin.atom';
import { type BulletinHtmlOptions, renderBulletinHtml, renderBulletinIndexHtml } from '../render/bulletin.html';
import { rankingChartSvg, trendChartSvg } from '../render/charts';
import { bulletinFixture, departments, trend } from './support/bulletin-fixture';

// The schema and the type say the same: each is assignable to the other (checked by tsc).
const fromSchema: BulletinDocument = {} as z.infer<typeof bulletinDocumentSchema>;
const toSchema: z.infer<typeof bulletinDocumentSchema> = {} as BulletinDocument;
void fromSchema;
void toSchema;

const zone = 'Asia/Shanghai';
const options: BulletinHtmlOptions = {
  lang: 'zh-CN',
  zone,
  officeName: '某某区创建全国文明城市工作办公室',
  jsonUrl: '/public/bulletins/2026-47/v1.json',
  feedUrl: '/public/bulletins.atom',
};
const feedOptions = {
  lang: 'zh-CN' as const,
  zone,
  officeName: options.officeName,
  selfUrl: 'https://wmb.example.gov.cn/public/bulletins.atom',
  indexUrl: 'https://wmb.example.gov.cn/public/bulletins',
  tagEntity: 'wmb.example.gov.cn,2026',
};

// XML 1.0 forbids these; HTML reports them as errors.
// eslint-disable-next-line no-control-regex -- control characters are what is looked for
const forbiddenControls = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;
const allControls = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('');
const hostile = `<script>alert(1)</script>"onload=alert(2) x=']]>${allControls}end`;

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['entry', 'text', 'link'].includes(name) });

const voidElements = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);

/**
 * Parses `html` as a browser would (htmlparser2) and reports what a browser would have to repair:
 * an element closed by another's end tag (misnesting), one left open, an end tag with nothing open.
 */
function htmlProblems(html: string): string[] {
  const problems: string[] = [];
  const open: string[] = [];
  const parser = new Parser(
    {
      onopentag(name) {
        if (!voidElements.has(name)) open.push(name);
      },
      onclosetag(name, isImplied) {
        if (voidElements.has(name)) return;
        if (isImplied) problems.push(`<${name}> closed without its end tag`);
        const last = open.pop();
        if (last !== name) problems.push(`</${name}> closes <${last ?? 'nothing'}>`);
      },
    },
    { decodeEntities: true, recognizeSelfClosing: true },
  );
  parser.write(html);
  parser.end();
  if (open.length > 0) problems.push(`left open: ${open.join(', ')}`);
  if (!/^<!DOCTYPE html>\n<html lang="(zh-CN|en)">/.test(html)) problems.push('no HTML5 doctype and html lang');
  return problems;
}

type Node = ReturnType<typeof parseDocument>;
const text = (node: Parameters<typeof DomUtils.textContent>[0]) => DomUtils.textContent(node).replace(/\s+/g, ' ').trim();
const byClass = (doc: Node, tag: string, cls: string) =>
  DomUtils.findAll((el) => el.name === tag && (el.attribs.class ?? '').split(' ').includes(cls), doc.children);
const section = (doc: Node, id: string) => {
  const heading = DomUtils.findOne((el) => el.attribs.id === id, doc.children);
  expect(heading, `section ${id}`).not.toBeNull();
  return heading!.parent!;
};
const rowsOf = (table: ReturnType<typeof byClass>[number]) =>
  DomUtils.findAll((el) => el.name === 'tr' && el.parent !== null && DomUtils.isTag(el.parent) && el.parent.name === 'tbody', [table]).map((row) =>
    DomUtils.findAll((el) => el.name === 'td', row.children).map((cell) => text(cell)),
  );

/** All text nodes of an SVG as fast-xml-parser reads them. */
function svgTexts(svg: string): string[] {
  expect(XMLValidator.validate(svg)).toBe(true);
  const parsed = xml.parse(svg);
  return (parsed.svg.text as unknown[]).map((t) => String(typeof t === 'object' && t !== null ? (t as Record<string, unknown>)['#text'] : t));
}

describe('charts', () => {
  it('draws the ranking as bars best first, each department named with its score, in an accessible SVG', () => {
    const doc = bulletinFixture();
    // Given in a shuffled order: the chart orders by rank.
    const svg = rankingChartSvg([...doc.ranking].reverse(), 'zh-CN');
    const parsed = xml.parse(svg);
    expect(parsed.svg['@role']).toBe('img');
    expect(parsed.svg['@aria-label']).toBe('考核得分排名：共 4 个单位，按得分从高到低');
    expect(parsed.svg.title).toBe(parsed.svg['@aria-label']);
    expect(parsed.svg.desc).toBe('1. 新华街道 96.5；2. 区城管局 92；3. 区市场监管局 88.25；4. 东城街道 79');
    expect(Number(parsed.svg['@width'])).toBe(640);
    const texts = svgTexts(svg);
    for (const label of ['96.5', '92', '88.25', '79']) expect(texts).toContain(label);
    // Category labels run top to bottom in rank order (their y grows with the rank).
    const names = departments.map((d) => d.name);
    const labelY = names.map((name) => {
      const node = (parsed.svg.text as Record<string, string>[]).find((t) => t['#text'] === name);
      expect(node, name).toBeDefined();
      return Number(/translate\([\d.]+ ([\d.]+)\)/.exec(node!['@transform'] ?? '')?.[1]);
    });
    expect(labelY).toEqual([...labelY].sort((a, b) => a - b));
    expect(new Set(labelY).size).toBe(4);
    // One bar per department, in the accent colour.
    expect((svg.match(/fill="#9e1b1b"/g) ?? []).length).toBe(4);
    expect(svg).not.toMatch(/<script|<style|ecmeta_|class=/);
  });

  it('draws the trend as a percent line with a gap where a period had nothing to rate', () => {
    const svg = trendChartSvg(trend, 'en');
    const parsed = xml.parse(svg);
    expect(parsed.svg['@aria-label']).toBe('On-time closure rate trend: 6 periods, oldest first');
    expect(parsed.svg.desc).toContain('第44期 no data');
    const texts = svgTexts(svg);
    for (const label of ['0%', '20%', '100%', '71.0%', '75.0%', '80.0%', '78.0%', '76.7%']) expect(texts).toContain(label);
    for (const point of trend) expect(texts).toContain(point.label);
    // Five points labelled (not six): the null one has no label and no marker.
    expect(texts.filter((t) => /^\d+\.\d%$/.test(t))).toHaveLength(5);
    // The line breaks at the gap: its path has two runs (two M commands).
    const line = /<path d="(M[^"]+)"[^>]*stroke="#9e1b1b" stroke-width="2"/.exec(svg)?.[1] ?? '';
    expect(line.match(/M/g)).toHaveLength(2);
  });

  it('gives the same bytes for the same input, whatever was drawn before', () => {
    const doc = bulletinFixture();
    const first = rankingChartSvg(doc.ranking, 'zh-CN');
    const trendFirst = trendChartSvg(trend, 'zh-CN');
    expect(trendChartSvg(trend, 'zh-CN')).toBe(trendFirst);
    expect(rankingChartSvg(doc.ranking, 'zh-CN')).toBe(first);
    // Ids are the chart's own, so two charts on one page never share one.
    expect(trendFirst).toMatch(/id="bulletin-trend-c0"/);
    expect(trendFirst).not.toMatch(/zr\d+-/);
  });

  it('escapes and strips hostile names inside the SVG', () => {
    const doc = bulletinFixture();
    const svg = rankingChartSvg([{ ...doc.ranking[0]!, departmentName: hostile }], 'zh-CN');
    expect(svg).not.toMatch(forbiddenControls);
    expect(svg).not.toContain('<script');
    expect(svg).not.toContain(']]>');
    expect(svg).not.toMatch(/\sonload=/);
    const parsed = xml.parse(svg);
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(parsed.svg.desc).toContain(`<script>alert(1)</script>"onload=alert(2) x=']]>`);
    // ECharts' label templates and rich-text markup in a name stay the name's own text.
    const templated = '{a|粗体}{b}{c}${x}';
    expect(svgTexts(rankingChartSvg([{ ...doc.ranking[0]!, departmentName: templated }], 'zh-CN'))).toContain(templated);
    const trendSvg = trendChartSvg([{ ...trend[0]!, label: hostile }], 'zh-CN');
    expect(XMLValidator.validate(trendSvg)).toBe(true);
    expect(trendSvg).not.toMatch(forbiddenControls);
    expect(trendSvg).not.toContain('<script');
  });
});

describe('bulletin page', () => {
  it('(the check of well-formedness finds what a browser would repair)', () => {
    expect(htmlProblems('<!DOCTYPE html>\n<html lang="en"><body><p><b>x</p></b><div></body></html>')).toEqual([
      '<b> closed without its end tag',
      '<div> closed without its end tag',
    ]);
    expect(htmlProblems('<!DOCTYPE html>\n<html lang="en"><body><p>x<br></p></body></html>')).toEqual([]);
  });

  it('is a well-formed print page holding no script and no external asset', () => {
    const html = renderBulletinHtml(bulletinFixture(), options);
    expect(htmlProblems(html)).toEqual([]);
    const doc = parseDocument(html);
    expect(DomUtils.findAll((el) => el.name === 'script', doc.children)).toHaveLength(0);
    expect(DomUtils.findAll((el) => el.name === 'img' || el.name === 'iframe' || (el.name === 'link' && el.attribs.rel === 'stylesheet'), doc.children)).toHaveLength(0);
    expect(html).not.toMatch(/\s(src|on[a-z]+)=|url\((?!#)/i);
    expect(html).toMatch(/@page \{ size: A4;/);
    expect(DomUtils.findAll((el) => el.name === 'h1', doc.children)).toHaveLength(1);
    expect(DomUtils.findAll((el) => el.name === 'svg', doc.children)).toHaveLength(2);
  });

  it('shows the number, period, published time in the office zone, ranking in order, items and rates', () => {
    const bulletin = bulletinFixture();
    const doc = parseDocument(renderBulletinHtml(bulletin, options));
    const all = text(doc);
    expect(text(DomUtils.findOne((el) => el.name === 'p' && el.attribs.class === 'office', doc.children)!)).toBe(options.officeName);
    expect(text(DomUtils.findOne((el) => el.name === 'h1', doc.children)!)).toBe('全区创建文明城市问题整改情况通报');
    expect(all).toContain('2026年第47期');
    expect(all).toContain('2026年11月16日至2026年11月22日');
    // 17:30 UTC on the 24th is 01:30 on the 25th in Shanghai.
    expect(all).toContain('2026年11月25日 01:30（UTC+08:00）');
    const times = DomUtils.findAll((el) => el.name === 'time', doc.children).map((el) => el.attribs.datetime);
    expect(times).toContain('2026-11-25T01:30:00.000+08:00');

    const ranking = rowsOf(byClass(doc, 'table', 'ranking')[0]!);
    expect(ranking.map((row) => row[1])).toEqual(departments.map((d) => d.name));
    expect(ranking[0]).toEqual(['1', '新华街道', '96.5', '逾期催办 −2.5；返工 −1', '90.0%']);
    expect(ranking[1]).toEqual(['2', '区城管局', '92', '逾期督办 −4；通报批评 −2；返工 −2', '77.8%']);
    expect(ranking[3]![4]).toBe('无数据');

    const criticism = text(section(doc, 'criticism'));
    expect(criticism).toContain('东城农贸市场周边占道经营反复出现');
    expect(criticism).toContain('学府路餐饮店油烟直排');
    expect(criticism).not.toContain('建设路公益广告牌破损未修复');
    expect(text(section(doc, 'exposure'))).toContain('建设路公益广告牌破损未修复');
    expect(text(section(doc, 'notable_closure'))).toContain('新华小区楼道杂物堆放清理');
    for (const item of bulletin.items) expect(all).toContain(item.caseId);

    const indicators = rowsOf(byClass(doc, 'table', 'indicators')[0]!);
    expect(indicators.map((row) => row[0])).toEqual(departments.map((d) => d.name));
    // 区城管局: 8/9 acknowledged on time, 9/9 closed, 7/9 on time, 2/11 rework, 1/9 extended.
    expect(indicators[1]).toEqual(['区城管局', '9', '88.9%(8/9)', '100.0%(9/9)', '77.8%(7/9)', '18.2%(2/11)', '11.1%(1/9)', '6.3 / 11', '2']);
    // Nothing to rate: n/a, with its 0/0.
    expect(indicators[3]![4]).toBe('无数据(0/0)');
    const hotline = rowsOf(byClass(doc, 'table', 'hotline')[0]!);
    expect(hotline[0]).toEqual(['新华街道', '100.0%(5/5)', '80.0%(4/5)', '无数据(0/0)']);

    const summary = rowsOf(byClass(doc, 'table', 'summary')[0]!);
    expect(summary.flat()).toEqual(['24', '19', '31', '30', '23', '4', '76.7%']);
    const links = DomUtils.findAll((el) => el.name === 'a', doc.children).map((el) => el.attribs.href);
    expect(links).toEqual(expect.arrayContaining(['/public/bulletins/2026-47/v1.json', '/public/bulletins.atom', '?lang=en']));
    // No correction, no other versions: neither section.
    expect(DomUtils.findOne((el) => el.attribs.id === 'correction' || el.attribs.id === 'versions', doc.children)).toBeNull();
  });

  it('headings are in both languages, the chosen one first; the English page links back to Chinese', () => {
    const zh = parseDocument(renderBulletinHtml(bulletinFixture(), options));
    const en = parseDocument(renderBulletinHtml(bulletinFixture(), { ...options, lang: 'en' }));
    const headings = (doc: Node) => DomUtils.findAll((el) => el.name === 'h2', doc.children).map((el) => text(el));
    expect(headings(zh).slice(0, 3)).toEqual(['总体情况 Summary', '考核排名 Ranking', '通报批评 Public criticism']);
    expect(headings(en).slice(0, 3)).toEqual(['Summary 总体情况', 'Ranking 考核排名', 'Public criticism 通报批评']);
    const enText = text(en);
    expect(enText).toContain('25 November 2026, 01:30 (UTC+08:00)');
    expect(enText).toContain('16 November 2026 – 22 November 2026');
    expect(enText).toContain('Closed on time');
    expect(DomUtils.findOne((el) => el.name === 'html', en.children)!.attribs.lang).toBe('en');
    expect(DomUtils.findAll((el) => el.name === 'a', en.children).map((el) => el.attribs.href)).toContain('?lang=zh-CN');
    // The English ranking chart speaks English.
    expect(DomUtils.findOne((el) => el.name === 'svg', en.children)!.attribs['aria-label']).toBe('Assessment score ranking: 4 departments, highest score first');
  });

  it('shows a correction with its reason and links to the other versions', () => {
    const corrected = bulletinFixture({ version: 2, correctionReason: '区城管局得分计算有误，更正为 92 分', publishedAt: '2026-11-26T02:00:00Z' });
    const html = renderBulletinHtml(corrected, {
      ...options,
      versions: [
        { version: 2, publishedAt: '2026-11-26T02:00:00Z', correctionReason: corrected.correctionReason, url: '/public/bulletins/2026-47/v2' },
        { version: 1, publishedAt: '2026-11-24T17:30:00Z', correctionReason: null, url: '/public/bulletins/2026-47/v1' },
      ],
    });
    expect(htmlProblems(html)).toEqual([]);
    const doc = parseDocument(html);
    expect(text(section(doc, 'correction'))).toBe('更正说明 Correction 区城管局得分计算有误，更正为 92 分');
    const versions = rowsOf(byClass(doc, 'table', 'versions')[0]!);
    expect(versions).toEqual([
      ['1', '2026年11月25日 01:30（UTC+08:00）', ''],
      ['2（本版）', '2026年11月26日 10:00（UTC+08:00）', '区城管局得分计算有误，更正为 92 分'],
    ]);
    const links = DomUtils.findAll((el) => el.name === 'a', doc.children).map((el) => el.attribs.href);
    expect(links).toContain('/public/bulletins/2026-47/v1');
    expect(links).not.toContain('/public/bulletins/2026-47/v2');
  });

  it('escapes hostile text and strips control characters everywhere on the page', () => {
    const bulletin = bulletinFixture({
      title: hostile,
      correctionReason: hostile,
      items: bulletinFixture().items.map((item) => ({ ...item, title: hostile, summary: hostile })),
      ranking: bulletinFixture().ranking.map((entry, i) => (i === 0 ? { ...entry, departmentName: hostile, deductions: { [hostile]: 1 } } : entry)),
      trend: trend.map((point, i) => (i === 0 ? { ...point, label: hostile } : point)),
    });
    const html = renderBulletinHtml(bulletin, { ...options, officeName: hostile, jsonUrl: 'javascript:alert(3)', versions: [{ version: 1, publishedAt: '2026-11-24T17:30:00Z', correctionReason: hostile, url: '"><script>x</script>' }, { version: 2, publishedAt: '2026-11-25T17:30:00Z', correctionReason: null, url: '/v2' }] });
    expect(htmlProblems(html)).toEqual([]);
    expect(html).not.toMatch(forbiddenControls);
    expect(html).not.toContain('<script');
    expect(html).not.toContain('javascript:');
    const doc = parseDocument(html);
    expect(DomUtils.findAll((el) => el.name === 'script' || Object.keys(el.attribs).some((a) => a.startsWith('on')), doc.children)).toHaveLength(0);
    // Shown as the text it is, minus the controls (tab, line feed and carriage return are white space).
    const shown = DomUtils.textContent(DomUtils.findOne((el) => el.name === 'h1', doc.children)!);
    expect(shown).toBe(`<script>alert(1)</script>"onload=alert(2) x=']]>\t\n\rend`);
    expect(html).toMatch(/<svg role="img"/);
  });

  it('is the same page for the same input', () => {
    expect(renderBulletinHtml(bulletinFixture(), options)).toBe(renderBulletinHtml(bulletinFixture(), options));
  });

  it('shows a draft as a draft, without a published time', () => {
    const html = renderBulletinHtml(bulletinFixture({ number: null, sequence: null, publishedAt: null }), options);
    expect(htmlProblems(html)).toEqual([]);
    const all = text(parseDocument(html));
    expect(all).toContain('草稿（未发布）');
    expect(all).not.toContain('发布时间');
  });
});

describe('bulletin list', () => {
  it('lists published bulletins newest first with number, period, published time and link', () => {
    const older = bulletinFixture({
      number: '2026年第46期',
      sequence: 46,
      period: { from: '2026-11-09', to: '2026-11-15' },
      publishedAt: '2026-11-17T01:00:00Z',
    });
    const draft = bulletinFixture({ number: null, sequence: null, publishedAt: null, title: '草稿不应出现' });
    const html = renderBulletinIndexHtml(
      [
        { document: older, url: '/public/bulletins/2026-46' },
        { document: bulletinFixture(), url: '/public/bulletins/2026-47' },
        { document: draft, url: '/nowhere' },
      ],
      options,
    );
    expect(htmlProblems(html)).toEqual([]);
    const doc = parseDocument(html);
    const rows = rowsOf(byClass(doc, 'table', 'bulletins')[0]!);
    expect(rows).toEqual([
      ['2026年第47期', '全区创建文明城市问题整改情况通报', '2026年11月16日至2026年11月22日', '2026年11月25日 01:30（UTC+08:00）'],
      ['2026年第46期', '全区创建文明城市问题整改情况通报', '2026年11月9日至2026年11月15日', '2026年11月17日 09:00（UTC+08:00）'],
    ]);
    const links = DomUtils.findAll((el) => el.name === 'a', doc.children).map((el) => el.attribs.href);
    expect(links).toEqual(expect.arrayContaining(['/public/bulletins/2026-47', '/public/bulletins/2026-46', '/public/bulletins.atom']));
    expect(links).not.toContain('/nowhere');
  });
});

describe('Atom feed', () => {
  const v1 = bulletinFixture();
  const v2 = bulletinFixture({ version: 2, correctionReason: '排名更正', publishedAt: '2026-11-26T02:00:00Z' });
  const v46 = bulletinFixture({ number: '2026年第46期', sequence: 46, publishedAt: '2026-11-17T01:00:00Z' });
  const entries = [
    { document: v46, url: 'https://wmb.example.gov.cn/public/bulletins/2026-46/v1' },
    { document: v1, url: 'https://wmb.example.gov.cn/public/bulletins/2026-47/v1' },
    { document: v2, url: 'https://wmb.example.gov.cn/public/bulletins/2026-47/v2' },
  ];

  it('has one entry per published version with stable ids, newest first', () => {
    const feed = renderBulletinFeed(entries, feedOptions);
    expect(XMLValidator.validate(feed)).toBe(true);
    const parsed = xml.parse(feed).feed;
    expect(parsed['@xmlns']).toBe('http://www.w3.org/2005/Atom');
    expect(parsed.id).toBe('tag:wmb.example.gov.cn,2026:bulletins');
    expect(parsed.updated).toBe('2026-11-26T10:00:00.000+08:00');
    expect(parsed.author.name).toBe(options.officeName);
    expect(parsed.link.map((l: Record<string, string>) => [l['@rel'], l['@href']])).toEqual([
      ['self', feedOptions.selfUrl],
      ['alternate', feedOptions.indexUrl],
    ]);
    const ids = parsed.entry.map((e: any) => e.id);
    expect(ids).toEqual([
      bulletinEntryId(feedOptions.tagEntity, '2026年第47期', 2),
      bulletinEntryId(feedOptions.tagEntity, '2026年第47期', 1),
      bulletinEntryId(feedOptions.tagEntity, '2026年第46期', 1),
    ]);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^tag:wmb\.example\.gov\.cn,2026:bulletin\/[A-Za-z0-9%._~-]+\/v\d+$/);
    // An id depends on the number and version only: the same in a later feed with more entries.
    const later = xml.parse(renderBulletinFeed([...entries, { document: bulletinFixture({ number: '2026年第48期', sequence: 48, publishedAt: '2026-12-01T01:00:00Z' }), url: 'x' }], feedOptions)).feed;
    expect(later.entry.slice(1).map((e: any) => e.id)).toEqual(ids);
    const newest = parsed.entry[0];
    expect(newest.published).toBe('2026-11-26T10:00:00.000+08:00');
    expect(newest.updated).toBe(newest.published);
    expect(newest.link[0]['@href']).toBe(entries[2]!.url);
    expect(newest.title['#text']).toContain('2026年第47期');
    expect(newest.summary['#text']).toContain('排名更正');
    expect(newest.summary['#text']).toContain('按期结案率 76.7%');
  });

  it('leaves drafts out and escapes hostile text, without control characters', () => {
    const feed = renderBulletinFeed(
      [
        { document: bulletinFixture({ title: hostile, correctionReason: hostile }), url: `https://x/?a=1&b="${hostile}` },
        { document: bulletinFixture({ number: null, publishedAt: null }), url: 'https://x/draft' },
      ],
      { ...feedOptions, officeName: hostile },
    );
    expect(XMLValidator.validate(feed)).toBe(true);
    expect(feed).not.toMatch(forbiddenControls);
    expect(feed).not.toContain('<script');
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', processEntities: true, isArray: (n) => n === 'entry' }).parse(feed).feed;
    expect(parsed.entry).toHaveLength(1);
    expect(parsed.entry[0].title['#text']).toContain(`<script>alert(1)</script>"onload=alert(2) x=']]>`);
    expect(parsed.author.name).toContain('<script>');
  });

  it('is a valid feed with no entry yet', () => {
    const feed = renderBulletinFeed([], { ...feedOptions, emptyUpdated: '2026-01-01T00:00:00Z' });
    expect(XMLValidator.validate(feed)).toBe(true);
    expect(xml.parse(feed).feed.updated).toBe('2026-01-01T08:00:00.000+08:00');
  });
});

describe('public JSON schema', () => {
  it('accepts the document as it is and shows its one instant in the office zone', () => {
    const bulletin = bulletinFixture();
    expect(bulletinDocumentSchema.parse(bulletin)).toEqual(bulletin);
    const shown = presentInstants(bulletinDocumentSchema, bulletin, zone);
    expect(shown.publishedAt).toBe('2026-11-25T01:30:00.000+08:00');
    // Dates of periods are calendar dates, not instants: unchanged.
    expect(shown.period).toEqual(bulletin.period);
    expect(shown.trend).toEqual(bulletin.trend);
  });

  it('has a JSON Schema, with publishedAt declared as a date-time', () => {
    const { $ref, $defs } = z.toJSONSchema(bulletinDocumentSchema, { io: 'output' }) as any;
    expect($ref).toBe('#/$defs/BulletinDocument');
    const document = $defs.BulletinDocument;
    expect(document.properties.publishedAt.anyOf.map((option: any) => option.format ?? option.type)).toEqual(['date-time', 'null']);
    expect($defs.Period.properties.from.format).toBe('date');
    expect(document.properties.period.$ref).toBe('#/$defs/Period');
    expect(document.properties.ranking.items.$ref).toBe('#/$defs/BulletinRankingEntry');
    expect($defs.BulletinRankingEntry.required).toEqual(['rank', 'departmentCode', 'departmentName', 'score', 'deductions', 'onTimeClosureRate']);
    expect(document.additionalProperties).toBe(false);
  });

  it('refuses what is not a bulletin', () => {
    expect(bulletinDocumentSchema.safeParse(bulletinFixture({ publishedAt: '25/11/2026' })).success).toBe(false);
    expect(bulletinDocumentSchema.safeParse({ ...bulletinFixture(), summary: { ...bulletinFixture().summary, onTimeClosureRate: 1.5 } }).success).toBe(false);
  });
});

describe('privacy', () => {
  it('publishes only the document: fields beyond it, smuggled in at run time, appear nowhere', () => {
    // A storage row spread into the document by mistake: the complainant's contact data and the
    // office's internal decisions. The renderers read the document's declared fields only.
    const secrets = { complainantPhone: '13800138000', complainantName: '张三丰', decisions: [{ reason: '内部讨论：暂不通报' }] };
    const leaky = {
      ...bulletinFixture(),
      ...secrets,
      items: bulletinFixture().items.map((item) => ({ ...item, reporterEmail: 'zhang@example.com' })),
    } as BulletinDocument;
    const outputs = [
      renderBulletinHtml(leaky, options),
      renderBulletinIndexHtml([{ document: leaky, url: '/b' }], options),
      renderBulletinFeed([{ document: leaky, url: '/b' }], feedOptions),
      JSON.stringify(bulletinDocumentSchema.parse(leaky)),
    ];
    for (const output of outputs) {
      for (const secret of ['13800138000', '张三丰', '内部讨论', 'zhang@example.com']) expect(output).not.toContain(secret);
    }
    // The public JSON is exactly the document's fields.
    expect(Object.keys(bulletinDocumentSchema.parse(leaky)).sort()).toEqual(Object.keys(bulletinFixture()).sort());
  });
});
