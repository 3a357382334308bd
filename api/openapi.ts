/**
 * What the OpenAPI document says beyond each route's own schemas: the links that tell a client
 * (and schemathesis' stateful phase) where the ids an answer carries lead, and the multipart body
 * of uploads, which fastify reads itself rather than through a schema.
 */
import { allowedMediaTypes } from '../services/evidence.store';

type Operation = {
  operationId?: string;
  summary?: string;
  parameters?: { in: string; name: string }[];
  responses?: Record<string, { description?: string; links?: Record<string, unknown>; headers?: Record<string, unknown> }>;
  requestBody?: unknown;
};
type Document = { paths?: Record<string, Record<string, Operation>> };

/**
 * Where the ids in a successful answer are, by the path parameter they fill. An operation links
 * to every operation whose path parameters its answer fills completely.
 */
const sources: Record<string, { status: string; fills: Record<string, string> }> = {
  openCase: { status: '201', fills: { caseId: '$response.body#/caseId', taskId: '$response.body#/tasks/0/taskId' } },
  getCase: { status: '200', fills: { caseId: '$response.body#/case/id', taskId: '$response.body#/tasks/0/id' } },
  withdrawCase: { status: '200', fills: { caseId: '$response.body#/caseId' } },
  reassignTask: { status: '200', fills: { caseId: '$response.body#/caseId', taskId: '$response.body#/tasks/0/taskId' } },
  convertComplaint: { status: '200', fills: { caseId: '$response.body#/case/id', trackingCode: '$response.body#/trackingCode' } },
  fileComplaint: {
    status: '201',
    fills: { trackingCode: '$response.body#/trackingCode', id: '$response.body#/trackingCode', token: '$response.body#/trackingCode' },
  },
  open311PostRequestJson: { status: '201', fills: { id: '$response.body#/0/service_request_id', token: '$response.body#/0/service_request_id' } },
  uploadEvidence: { status: '201', fills: { sha256: '$response.body#/0/sha256' } },
  addDepartment: { status: '201', fills: { code: '$response.body#/code' } },
};

/** Every answer with a person leads to what reads and changes them. */
for (const id of ['addDepartmentPerson', 'addOfficePerson', 'getPerson', 'changePerson', 'deactivatePerson', 'setPersonRoles']) {
  sources[id] = { status: id.startsWith('add') ? '201' : '200', fills: { personId: '$response.body#/id' } };
}

/** Every task command answers with the task: its case and id lead to the other task commands. */
const taskCommands = [
  'acknowledgeTask',
  'assignResponsiblePerson',
  'reportProgress',
  'submitRectification',
  'verifyRectification',
  'requestExtension',
  'decideExtension',
  'requestTransfer',
  'rejectTransfer',
  'suspendTask',
  'resumeTask',
];
for (const id of taskCommands) sources[id] = { status: '200', fills: { caseId: '$response.body#/caseId', taskId: '$response.body#/taskId' } };

const pathParameters = (operation: Operation) => (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);

/** Adds the links of `sources` to the responses of `doc`, in place. */
function addLinks(doc: Document): void {
  const operations = Object.values(doc.paths ?? {}).flatMap((methods) => Object.values(methods));
  for (const source of operations) {
    const spec = source.operationId ? sources[source.operationId] : undefined;
    const response = spec && source.responses?.[spec.status];
    if (!spec || !response) continue;
    const links: Record<string, unknown> = {};
    for (const target of operations) {
      const needed = pathParameters(target);
      if (!target.operationId || needed.length === 0 || !needed.every((name) => name in spec.fills)) continue;
      links[target.operationId] = {
        operationId: target.operationId,
        parameters: Object.fromEntries(needed.map((name) => [name, spec.fills[name]])),
      };
    }
    if (Object.keys(links).length > 0) response.links = links;
  }
}

/** Uploads: one or more files in the part `file`, of the accepted media types. */
function addUploadBody(doc: Document): void {
  const upload = doc.paths?.['/api/v1/evidence']?.post;
  if (!upload) return;
  upload.requestBody = {
    required: true,
    content: {
      'multipart/form-data': {
        schema: {
          type: 'object',
          properties: { file: { type: 'array', minItems: 1, maxItems: 10, items: { type: 'string', format: 'binary', minLength: 1 } } },
          required: ['file'],
        },
        encoding: { file: { contentType: [...allowedMediaTypes].join(', ') } },
      },
    },
  };
}

/** The operations that answer 201 with where the new thing is. */
const createdAt: Record<string, string> = {
  openCase: '/api/v1/cases/{caseId}',
  addDepartment: '/api/v1/departments/{code}',
  addDepartmentPerson: '/api/v1/people/{personId}',
  addOfficePerson: '/api/v1/people/{personId}',
  fileComplaint: '/api/v1/complaints/{trackingCode}',
};

/** Success responses say what they are (not fastify's "Default Response"), and 201s where the new thing is. */
function describeSuccess(doc: Document): void {
  for (const operation of Object.values(doc.paths ?? {}).flatMap((methods) => Object.values(methods))) {
    for (const [status, response] of Object.entries(operation.responses ?? {})) {
      if (!status.startsWith('2')) continue;
      if (!response.description || response.description === 'Default Response') {
        response.description = status === '201' ? 'created' : (operation.summary ?? 'done');
      }
      const location = operation.operationId ? createdAt[operation.operationId] : undefined;
      if (status === '201' && location) {
        response.headers = { ...response.headers, Location: { description: `where it is: ${location}`, schema: { type: 'string' } } };
      }
    }
  }
}

/** The document as served: the routes' own, with links, the upload body and success descriptions. */
export function completeDocument<T>(doc: T): T {
  addLinks(doc as Document);
  addUploadBody(doc as Document);
  describeSuccess(doc as Document);
  return doc;
}
