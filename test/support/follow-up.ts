import { type ApiStack, dataOf } from './api';

/** How far a complaint case's follow-up has gone. */
export type FollowUpStage = 'closed' | 'answered' | 'dissatisfied';

/**
 * A complaint filed (with the complainant's contact data), converted into a case of CG's, whose
 * task is accepted with `photo` (a file CG uploaded, or several) as its evidence; then, as `stage`
 * says, answered showing the first, and rated 不满意. Answers the tracking code and the case id.
 */
export async function complaintCase(
  api: ApiStack,
  stage: FollowUpStage,
  photos: string | readonly string[],
  contact = { name: '李四', phone: '13800138000', email: 'lisi@example.org' },
): Promise<{ trackingCode: string; caseId: string }> {
  const files = typeof photos === 'string' ? [photos] : photos;
  const photo = files[0]!;
  const filed = await api.as.public.POST('/api/v1/complaints', { body: { description: '人民路夜间占道经营', contact } });
  const trackingCode = dataOf(filed).trackingCode;
  const converted = await api.as.office.POST('/api/v1/complaints/{trackingCode}/convert', {
    params: { path: { trackingCode } },
    body: { title: '人民路占道经营', category: '市容秩序', severity: 'general', leadDepartment: 'CG' },
  });
  const caseId = dataOf(converted).case!.id;
  const task = { params: { path: { caseId, taskId: `${caseId}-T1` } } };
  dataOf(await api.as.CG.POST('/api/v1/cases/{caseId}/tasks/{taskId}/acknowledge', { ...task, body: {} }));
  dataOf(
    await api.as.CG.POST('/api/v1/cases/{caseId}/tasks/{taskId}/submit', {
      ...task,
      body: { report: '已清理', evidence: files.map((file) => ({ file: `sha256:${file}`, note: '整改后' })) },
    }),
  );
  dataOf(await api.as.office.POST('/api/v1/cases/{caseId}/tasks/{taskId}/verify', { ...task, body: { decision: 'accept' } }));
  // The case closes, then its workflow starts the follow-up: wait for the round to be recorded.
  for (;;) {
    const record = dataOf(await api.as.office.GET('/api/v1/cases/{caseId}', { params: { path: { caseId } } }));
    if (record.followUp?.status === 'awaiting_answer') break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (stage === 'closed') return { trackingCode, caseId };
  dataOf(
    await api.as.office.POST('/api/v1/cases/{caseId}/answer', {
      params: { path: { caseId } },
      body: { answer: '摊点已清理，恢复通行。', evidence: [`sha256:${photo}`] },
    }),
  );
  if (stage === 'answered') return { trackingCode, caseId };
  dataOf(
    await api.as.public.POST('/api/v1/complaints/{trackingCode}/rating', {
      params: { path: { trackingCode } },
      body: { rating: 'dissatisfied', reason: '晚上又来了' },
    }),
  );
  return { trackingCode, caseId };
}
