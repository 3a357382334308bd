import type { Actor, OpenCaseRequest } from '../../domain/case.schema';

export const office: Actor = { role: 'office', name: '创建办 张三' };
export const dept = (code: string): Actor => ({ role: 'department', department: code, name: `${code} 经办人` });

/** A valid open request; `overrides` replace fields. */
export function caseRequest(overrides: Partial<OpenCaseRequest> = {}): OpenCaseRequest {
  return {
    title: '人民路占道经营',
    description: '人民路与解放路交叉口东北角夜间占道经营，影响通行。',
    category: '市容秩序',
    severity: 'serious',
    source: 'inspection',
    leadDepartment: 'CG',
    location: { address: '人民路与解放路交叉口', lat: 30.27, lng: 120.15 },
    evidence: [{ url: 'https://example.org/photos/1.jpg', note: '督查照片' }],
    ...overrides,
  };
}

export const photo = { url: 'https://example.org/photos/after.jpg', note: '整改后照片' };
