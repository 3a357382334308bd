import type { Generated } from 'kysely';

/** Row types of the SQL read model, snake_case as stored. Times are ISO 8601 UTC strings. */

export interface DepartmentTable {
  code: string;
  name: string;
  head_name: string | null;
  email: string | null;
  phone: string | null;
  active: number;
  created_at: string;
  updated_at: string;
}

export interface CaseTable {
  id: string;
  title: string;
  description: string;
  category: string;
  severity: string;
  source: string;
  lead_department: string;
  /** JSON array of department codes. */
  cooperating_departments: string;
  location_address: string | null;
  location_lat: number | null;
  location_lng: number | null;
  due_date: string | null;
  /** JSON array of evidence. */
  evidence: string;
  status: string;
  opened_at: string;
  /** JSON actor. */
  opened_by: string;
  closed_at: string | null;
  withdrawn_reason: string | null;
  /** Sequence number of the case workflow's last event applied; guards against stale writes. */
  version: number;
  updated_at: string;
}

export interface TaskTable {
  id: string;
  case_id: string;
  department_code: string;
  role: string;
  status: string;
  rework_count: number;
  submission_count: number;
  assigned_at: string;
  acknowledged_at: string | null;
  submitted_at: string | null;
  closed_at: string | null;
  /** JSON of the last submission {report, evidence, at}, or null. */
  last_submission: string | null;
  version: number;
  updated_at: string;
  ack_due_at: string | null;
  rectification_due_at: string | null;
  escalation_level: number;
  ack_escalation_level: number;
  suspended_since: string | null;
  suspension_reason: string | null;
  /** JSON {workingDays, reason, at}. */
  pending_extension: string | null;
  extensions_granted: number;
  /** JSON {reason, suggestedDepartment, at}. */
  pending_transfer: string | null;
  transferred_to_task: string | null;
  /** What falls due next: a reminder or a rung, and when. */
  next_alarm_at: string | null;
  next_alarm_kind: string | null;
  next_alarm_label: string | null;
}

/** The outbox: notifications waiting for delivery. */
export interface NotificationTable {
  id: Generated<number>;
  /** `<event key>:<recipient>`: written once however often the activity runs. */
  notification_key: string;
  case_id: string;
  task_id: string | null;
  department_code: string | null;
  recipient: string;
  kind: string;
  level: number | null;
  subject: string;
  /** JSON object. */
  payload: string;
  status: string;
  created_at: string;
}

/** Rungs reached, recorded against departments. */
export interface EscalationTable {
  id: Generated<number>;
  escalation_key: string;
  case_id: string;
  task_id: string;
  department_code: string;
  deadline: string;
  level: number;
  due_at: string;
  at: string;
  bulletin_id: string | null;
}

/** Local calendar changes: closures (holiday) and extra working days (workday). */
export interface CalendarDayTable {
  date: string;
  kind: string;
  note: string | null;
  created_at: string;
}

/** The append-only audit trail. */
export interface EventTable {
  position: Generated<number>;
  /** `<workflow id>#<sequence>`: the same event written twice is stored once. */
  event_key: string;
  case_id: string;
  task_id: string | null;
  action: string;
  actor_role: string;
  actor_department: string | null;
  actor_name: string;
  /** JSON object. */
  payload: string;
  at: string;
  recorded_at: string;
}

export interface CaseSequenceTable {
  year: number;
  last_sequence: number;
}

/** Case ids handed out per open request, so that a retried `case open` opens one case. */
export interface CaseOpenRequestTable {
  request_key: string;
  case_id: string;
  request_hash: string;
  created_at: string;
}

export interface Database {
  departments: DepartmentTable;
  cases: CaseTable;
  tasks: TaskTable;
  events: EventTable;
  case_sequences: CaseSequenceTable;
  case_open_requests: CaseOpenRequestTable;
  notifications: NotificationTable;
  escalations: EscalationTable;
  calendar_days: CalendarDayTable;
}
