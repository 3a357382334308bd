import path from 'node:path';
import { Eta } from 'eta';
import type { NoticeKind } from '../domain/notice';
import { projectRoot } from '../scripts/binaries';

/** The languages notices are written in; zh-CN first. */
export const noticeLanguages = ['zh-CN', 'en'] as const;
export type NoticeLanguage = (typeof noticeLanguages)[number];

/** A notice as a person reads it: a subject, plain text, and the same as HTML. */
export interface RenderedNotice {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

const footers: Record<NoticeLanguage, string> = {
  'zh-CN': '本邮件由督办系统自动发送，请勿直接回复。',
  en: 'Sent by duban, the supervision system. Please do not reply to this message.',
};
const linkTexts: Record<NoticeLanguage, string> = { 'zh-CN': '查看案件', en: 'Open the case' };
/** A complainant's link is their tracking page, not the case (which needs a token). */
const trackingLinkTexts: Record<NoticeLanguage, string> = { 'zh-CN': '查看办理情况并评价', en: 'Follow your complaint and rate the answer' };

/** What each kind of notice is called, for people (an alert names the kind it could not deliver). */
export const noticeKindLabels: Record<NoticeKind, Record<NoticeLanguage, string>> = {
  assignment: { 'zh-CN': '交办', en: 'assignment' },
  reminder: { 'zh-CN': '期限提醒', en: 'reminder' },
  escalation: { 'zh-CN': '催办督办', en: 'escalation' },
  rework: { 'zh-CN': '返工', en: 'rework' },
  extension_decision: { 'zh-CN': '延期审批', en: 'extension decision' },
  transfer_decision: { 'zh-CN': '转办审批', en: 'transfer decision' },
  awaiting_verification: { 'zh-CN': '待核查', en: 'awaiting verification' },
  request: { 'zh-CN': '待审批申请', en: 'request' },
  closure: { 'zh-CN': '销号', en: 'closure' },
  withdrawal: { 'zh-CN': '撤销', en: 'withdrawal' },
  named_responsible: { 'zh-CN': '指定责任人', en: 'responsible person' },
  resumption: { 'zh-CN': '恢复计时', en: 'resumption' },
  answer: { 'zh-CN': '投诉答复', en: 'answer to a complaint' },
  rating_dissatisfied: { 'zh-CN': '回访不满意', en: 'dissatisfied rating' },
  alert: { 'zh-CN': '提示', en: 'alert' },
  digest: { 'zh-CN': '每日汇总', en: 'daily digest' },
};

/**
 * Fields that stand in a subject line: a line break in them (a case title typed with one) would
 * end the subject there and start the body with the rest, so it is a space here.
 */
const singleLineFields = ['caseTitle', 'departmentName', 'recipientName', 'address', 'toDepartmentName', 'forKindLabel'] as const;

/**
 * Renders notices from the templates under templates/notices/<language>/<kind>.eta (the first
 * line is the subject, the rest the body, as plain text) into text and HTML (one layout for every
 * kind). Data is escaped in HTML; the text is what was written.
 */
export function createNoticeRenderer(options: { templatesDir?: string } = {}) {
  const dir = options.templatesDir ?? path.join(projectRoot(), 'templates', 'notices');
  const text = new Eta({ views: dir, autoEscape: false, autoTrim: false, cache: true });
  const html = new Eta({ views: dir, autoEscape: true, cache: true });
  return {
    render(kind: NoticeKind, language: NoticeLanguage, given: Record<string, unknown> & { link?: string | null; urgent?: boolean }): RenderedNotice {
      const data: Record<string, unknown> & { link?: string | null; urgent?: boolean } = { ...given };
      for (const field of singleLineFields) {
        const value = data[field];
        if (typeof value === 'string') data[field] = value.replace(/[\r\n\u0085\u2028\u2029]+/g, ' ');
      }
      const written = text.render(`./${language}/${kind}`, data).replace(/\r\n/g, '\n');
      const [subject = '', ...rest] = written.split('\n');
      const body = rest.join('\n').trim();
      const link = data.link ?? null;
      const linkText = (data.linkKind === 'tracking' ? trackingLinkTexts : linkTexts)[language];
      const paragraphs = body.split('\n').filter((line) => line.trim() !== '');
      return {
        subject: subject.trim(),
        text: `${body}\n${link ? `\n${linkText}: ${link}\n` : ''}\n-- \n${footers[language]}\n`,
        html: html.render('./layout', {
          lang: language,
          subject: subject.trim(),
          paragraphs,
          link,
          linkText,
          footer: footers[language],
          urgent: data.urgent ?? false,
        }),
      };
    },
  };
}
export type NoticeRenderer = ReturnType<typeof createNoticeRenderer>;
