import type { CaseState } from '../domain/case.machine';
import { type Actor, type CaseSource, type Evidence, type Location, pointOf, type Severity } from '../domain/case.schema';
import type { CaseStatus } from '../domain/case.machine';
import type { TaskRole, TaskStatus } from '../domain/task.machine';
import type { Alarm } from '../domain/alarm.plan';
import type { Submission, TaskState } from '../domain/task.machine';
import type { ResponsiblePerson } from '../domain/person-id';
import type { CaseTable, TaskTable } from './schema';

/** A case as listed and shown. */
export interface CaseView {
  id: string;
  title: string;
  description: string;
  category: string;
  severity: Severity;
  source: CaseSource;
  leadDepartment: string;
  cooperatingDepartments: string[];
  location: Location | null;
  dueDate: string | null;
  evidence: Evidence[];
  status: CaseStatus;
  openedAt: string;
  openedBy: Actor;
  closedAt: string | null;
  withdrawnReason: string | null;
  /** The earliest rectification deadline among its live tasks. */
  dueAt: string | null;
  /** Whether a task that owes work has passed its deadline (with its clock running). */
  overdue: boolean;
  escalationLevel: number;
  complaintCode: string | null;
}

/** A department's task as listed and shown. */
export interface TaskView {
  id: string;
  caseId: string;
  department: string;
  role: TaskRole;
  status: TaskStatus;
  reworkCount: number;
  submissionCount: number;
  assignedAt: string;
  acknowledgedAt: string | null;
  submittedAt: string | null;
  closedAt: string | null;
  lastSubmission: Submission | null;
  ackDueAt: string | null;
  rectificationDueAt: string | null;
  /** Highest rung reached (rectification), and for acknowledgement. */
  escalationLevel: number;
  ackEscalationLevel: number;
  suspension: { since: string; reason: string } | null;
  pendingExtension: { workingDays: number; reason: string; at: string } | null;
  extensionsGranted: number;
  pendingTransfer: { reason: string; suggestedDepartment: string | null; at: string } | null;
  transferredToTask: string | null;
  /** What falls due next and when: a reminder or a rung of the escalation ladder. */
  next: { at: string; kind: string; label: string } | null;
  /** 责任人 as of their assignment (name and post then); null until someone is named. */
  responsiblePerson: ResponsiblePerson | null;
}

export function caseStateToRow(state: CaseState, version: number, now: string): CaseTable {
  const d = state.details;
  return {
    id: state.caseId,
    title: d.title,
    description: d.description,
    category: d.category,
    severity: d.severity,
    source: d.source,
    lead_department: d.leadDepartment,
    cooperating_departments: JSON.stringify(d.cooperatingDepartments),
    location_address: d.location?.address ?? null,
    location_lat: pointOf(d.location)?.lat ?? null,
    location_lng: pointOf(d.location)?.lng ?? null,
    due_date: d.dueDate ?? null,
    evidence: JSON.stringify(d.evidence),
    status: state.status,
    opened_at: state.openedAt,
    opened_by: JSON.stringify(state.openedBy),
    closed_at: state.closedAt,
    withdrawn_reason: state.withdrawal?.reason ?? null,
    complaint_code: d.complaintCode ?? null,
    version,
    updated_at: now,
  };
}

export function taskStateToRow(state: TaskState, version: number, now: string, next: Alarm | null = null): TaskTable {
  return {
    id: state.taskId,
    case_id: state.caseId,
    department_code: state.departmentCode,
    role: state.role,
    status: state.status,
    rework_count: state.reworkCount,
    submission_count: state.submissionCount,
    assigned_at: state.assignedAt,
    acknowledged_at: state.acknowledgedAt,
    submitted_at: state.submittedAt,
    closed_at: state.closedAt,
    last_submission: state.lastSubmission ? JSON.stringify(state.lastSubmission) : null,
    version,
    updated_at: now,
    ack_due_at: state.ackDueAt,
    rectification_due_at: state.rectificationDueAt,
    escalation_level: state.escalationLevel,
    ack_escalation_level: state.ackEscalationLevel,
    suspended_since: state.suspension?.since ?? null,
    suspension_reason: state.suspension?.reason ?? null,
    pending_extension: state.pendingExtension ? JSON.stringify(state.pendingExtension) : null,
    extensions_granted: state.extensionsGranted,
    pending_transfer: state.pendingTransfer ? JSON.stringify(state.pendingTransfer) : null,
    transferred_to_task: state.transferredTo?.taskId ?? null,
    next_alarm_at: next?.at ?? null,
    next_alarm_kind: next?.kind ?? null,
    next_alarm_label: next?.label ?? null,
    // State recorded before the field existed has none.
    responsible_person_id: state.responsiblePerson?.id ?? null,
    responsible_person_name: state.responsiblePerson?.name ?? null,
    responsible_person_post: state.responsiblePerson?.post ?? null,
  };
}

/** An open case is overdue once the earliest deadline of work still owed (`work_due_at`) is past. */
export function isOverdue(status: string, workDueAt: string | null, now: string): boolean {
  return status === 'open' && !!workDueAt && workDueAt < now;
}

export function toCaseView(row: CaseTable, now: string = new Date().toISOString()): CaseView {
  const location: Location | null =
    row.location_address === null
      ? null
      : {
          address: row.location_address,
          ...(row.location_lat !== null && row.location_lng !== null
            ? { lat: row.location_lat, lng: row.location_lng }
            : {}),
        };
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    category: row.category,
    severity: row.severity as Severity,
    source: row.source as CaseSource,
    leadDepartment: row.lead_department,
    cooperatingDepartments: JSON.parse(row.cooperating_departments) as string[],
    location,
    dueDate: row.due_date,
    evidence: JSON.parse(row.evidence) as Evidence[],
    status: row.status as CaseStatus,
    openedAt: row.opened_at,
    openedBy: JSON.parse(row.opened_by) as Actor,
    closedAt: row.closed_at,
    withdrawnReason: row.withdrawn_reason,
    dueAt: row.due_at ?? null,
    overdue: isOverdue(row.status, row.work_due_at ?? null, now),
    escalationLevel: row.escalation_level ?? 0,
    complaintCode: row.complaint_code ?? null,
  };
}

export function toTaskView(row: TaskTable): TaskView {
  return {
    id: row.id,
    caseId: row.case_id,
    department: row.department_code,
    role: row.role as TaskRole,
    status: row.status as TaskStatus,
    reworkCount: row.rework_count,
    submissionCount: row.submission_count,
    assignedAt: row.assigned_at,
    acknowledgedAt: row.acknowledged_at,
    submittedAt: row.submitted_at,
    closedAt: row.closed_at,
    lastSubmission: row.last_submission ? (JSON.parse(row.last_submission) as Submission) : null,
    ackDueAt: row.ack_due_at,
    rectificationDueAt: row.rectification_due_at,
    escalationLevel: row.escalation_level,
    ackEscalationLevel: row.ack_escalation_level,
    suspension: row.suspended_since ? { since: row.suspended_since, reason: row.suspension_reason ?? '' } : null,
    pendingExtension: row.pending_extension ? (JSON.parse(row.pending_extension) as TaskView['pendingExtension']) : null,
    extensionsGranted: row.extensions_granted,
    pendingTransfer: row.pending_transfer ? (JSON.parse(row.pending_transfer) as TaskView['pendingTransfer']) : null,
    transferredToTask: row.transferred_to_task,
    next:
      row.next_alarm_at && row.next_alarm_kind
        ? { at: row.next_alarm_at, kind: row.next_alarm_kind, label: row.next_alarm_label ?? '' }
        : null,
    responsiblePerson: row.responsible_person_id
      ? { id: row.responsible_person_id, name: row.responsible_person_name ?? '', post: row.responsible_person_post ?? '' }
      : null,
  };
}
