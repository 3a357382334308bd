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
  /** The earliest rectification deadline of its live tasks (kept by the read-model writer). */
  due_at?: string | null;
  /** The earliest deadline among tasks that owe work with their clock running: overdue once past. */
  work_due_at?: string | null;
  /** Highest rung any of its tasks reached. */
  escalation_level?: number;
  /** The complaint it was opened from. */
  complaint_code?: string | null;
  /** Sequence number of the case workflow's last event applied; guards against stale writes. */
  version: number;
  updated_at: string;
  /** The workflow task attempt that wrote this snapshot (its workflow clock); 0 before fencing. */
  fence?: number;
  /** Raised by the database on every update of the row (a trigger): what a cached view was read at. */
  revision?: number;
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
  /** The workflow task attempt that wrote this snapshot (its workflow clock); 0 before fencing. */
  fence?: number;
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
  /** 责任人 as the task recorded them when named: a person of the directory, with name and post then. */
  responsible_person_id: string | null;
  responsible_person_name: string | null;
  responsible_person_post: string | null;
}

/** The directory: people of a department, or of the office itself (department_code NULL). */
export interface PersonTable {
  /** p_ and 12 hex digits. */
  id: string;
  department_code: string | null;
  name: string;
  /** 岗位. */
  post: string;
  phone: string | null;
  email: string | null;
  /** zh-CN | en */
  language: string;
  /** JSON array of channels in order of preference, e.g. ["email"]. */
  channels: string;
  active: number;
  created_at: string;
  updated_at: string;
  deactivated_at: string | null;
}

/** Who holds which role (head, deputy, liaison; the office's lead, clerk); only active people hold any. */
export interface PersonRoleTable {
  person_id: string;
  role: string;
  assigned_at: string;
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

/** A year's official holiday arrangement imported with `duban calendar import`. */
export interface CalendarYearTable {
  year: number;
  /** The notice it comes from, e.g. 国办发明电〔2025〕7号. */
  notice: string | null;
  imported_at: string;
  imported_by: string;
}

/** The days of an imported year: holidays and make-up working days (调休上班), each named. */
export interface CalendarYearDayTable {
  date: string;
  year: number;
  /** holiday | workday */
  kind: string;
  name: string;
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

/** API bearer tokens; only their SHA-256 is stored. */
export interface TokenTable {
  id: string;
  name: string;
  role: string;
  department_code: string | null;
  token_hash: string;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

/** The first response to each Idempotency-Key, per caller. */
export interface IdempotencyKeyTable {
  principal: string;
  key: string;
  method: string;
  path: string;
  request_hash: string;
  /** in_progress | done */
  status: string;
  response_status: number | null;
  response_body: string | null;
  response_type: string | null;
  created_at: string;
  /** Who holds the claim while it is in progress: only its holder completes or releases it. */
  claim_id: string | null;
}

/** Uploaded evidence files (content under data/evidence). */
export interface EvidenceFileTable {
  sha256: string;
  name: string;
  media_type: string;
  size: number;
  /** The first uploader (every uploader is in evidence_uploads). */
  uploaded_by: string;
  created_at: string;
  /** When it was last attached to something; unreferenced files are removed some time after. */
  touched_at: string | null;
}

/** Each caller who uploaded a file, and when: the right to attach it, and the upload quota. */
export interface EvidenceUploadTable {
  sha256: string;
  uploaded_by: string;
  size: number;
  /** The name this uploader gave the file (another uploader of the same bytes never sees it). */
  name: string;
  created_at: string;
}

/** Which cases refer to a file: who may see the case may download the file. */
export interface EvidenceRefTable {
  sha256: string;
  /**
   * A case id, or the tracking code (TS-…) of the complaint a public photo came with: the office
   * may download that one, no department's task ever matches it, and the clean-up keeps it.
   */
  case_id: string;
}

/** 投诉/举报 from the public, before and after triage. */
export interface ComplaintTable {
  id: Generated<number>;
  tracking_code: string;
  /** web | open311 */
  channel: string;
  service_code: string | null;
  title: string;
  description: string;
  category: string | null;
  location_address: string | null;
  location_lat: number | null;
  location_lng: number | null;
  /** JSON personal data {name, phone, email}: never shown to the public. */
  contact: string;
  /** JSON array of evidence. */
  evidence: string;
  /** received | converting | converted | dismissed */
  status: string;
  case_id: string | null;
  dismiss_reason: string | null;
  created_at: string;
  updated_at: string;
}

/** The outbox of notices: one per event that asks someone to act. */
export interface NoticeTable {
  /** The event's key (or `digest:<department>:<date>`, `<notice>:alert:<role>:<unit>`). */
  notice_key: string;
  /** Null for a notice about no one case (a department's daily digest). */
  case_id: string | null;
  task_id: string | null;
  department_code: string | null;
  kind: string;
  /** JSON array of the roles it is for (domain/notice.ts). */
  roles: string;
  urgent: number;
  event_action: string | null;
  /** JSON: what the templates need. */
  payload: string;
  event_at: string;
  /**
   * held (its event not yet confirmed by the server: docs/reliability.md) | pending (recipients not
   * yet resolved) | incomplete | planned | undeliverable (nobody to go to)
   */
  status: string;
  /** Not before this instant (quiet hours). */
  not_before: string;
  created_at: string;
  /** While held: the workflow whose journal wrote it, and its event's position in that journal. */
  held_by?: string | null;
  held_position?: number | null;
}

/**
 * Per workflow: the highest fence its journal wrote under, the last position written then, and the
 * last position known to be on the server's record.
 */
export interface JournalStreamTable {
  stream: string;
  fence: number;
  seq: number;
  confirmed: number;
  confirmed_fence?: number;
  checked_at?: string | null;
  resync_at?: string | null;
}

/** Events that a later attempt of their workflow task replaced, as they were. */
export interface VoidedEventTable {
  event_key: string;
  case_id: string;
  task_id: string | null;
  action: string;
  payload: string;
  at: string;
  recorded_at: string;
  fence: number;
  voided_at: string;
  voided_by_fence: number;
}

/** One notice to one recipient on one channel, sent at most once. */
export interface DeliveryTable {
  /** `<notice key>:<recipient id>:<channel>` */
  delivery_key: string;
  /** A short id derived from the key, for people and URLs: `dl_…`. */
  id: string;
  notice_key: string;
  /** person | complainant (recipient_id: the case, whose complaint has the address) | webhook */
  recipient_kind: string;
  recipient_id: string;
  recipient_name: string;
  /** The role that brought the recipient (responsible, head …), null for a webhook. */
  role: string | null;
  /** email | webhook */
  channel: string;
  /** The e-mail address or URL as it was when the delivery was planned. */
  address: string;
  language: string;
  /** pending | sending | sent | failed */
  status: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  claim_id: string | null;
  claimed_at: string | null;
  sent_at: string | null;
  created_at: string;
  updated_at: string;
}

/** A system that receives notices as signed webhooks: a department's, or the office's (all). */
export interface WebhookSubscriberTable {
  id: string;
  name: string;
  department_code: string | null;
  url: string;
  active: number;
  created_at: string;
}

/** A version of the assessment rules (考核扣分), in force from its date until a newer one's. */
export interface AssessmentRulesTable {
  version: Generated<number>;
  effective_from: string;
  /** JSON AssessmentRules (domain/assessment.ts). */
  rules: string;
  note: string | null;
  created_by: string;
  created_at: string;
}

/** A bulletin (定期通报): a draft the office decides on, or a published version (immutable). */
export interface BulletinTable {
  id: string;
  period_from: string;
  period_to: string;
  /** draft | published | superseded | discarded */
  status: string;
  year: number | null;
  sequence: number | null;
  version: number;
  corrects_id: string | null;
  correction_reason: string | null;
  /** schedule | office | correction */
  origin: string;
  origin_key: string | null;
  /** JSON BulletinDocument. */
  document: string;
  /** JSON BulletinItem[] the draft proposed. */
  proposed_items: string;
  /** JSON BulletinDecision[]. */
  decisions: string;
  revision: number;
  rules_version: number | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  published_by: string | null;
  published_at: string | null;
}

/** An accountability interview (约谈) called by rung 4, completed by the office. */
export interface InterviewTable {
  id: string;
  escalation_key: string;
  case_id: string;
  task_id: string;
  department_code: string;
  /** pending | completed */
  status: string;
  called_at: string;
  interviewees: string | null;
  interviewers: string | null;
  held_at: string | null;
  outcome: string | null;
  completed_by: string | null;
  completed_at: string | null;
}

/** 答复 and 回访 of a case from a complaint: its current round, as the case workflow's snapshot has it. */
export interface CaseFollowUpTable {
  case_id: string;
  round: number;
  status: string;
  reopens: number;
  max_reopens: number;
  answer: string | null;
  /** JSON array of the evidence (after-photos) the answer shows. */
  answer_evidence: string;
  answered_at: string | null;
  follow_up_due_at: string | null;
  rating: string | null;
  rating_reason: string | null;
  rated_at: string | null;
  decision: string | null;
  decision_comment: string | null;
  decided_at: string | null;
  version: number;
  /** The workflow task attempt that wrote this snapshot (its workflow clock); 0 before fencing. */
  fence?: number;
  updated_at: string;
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
  calendar_years: CalendarYearTable;
  calendar_year_days: CalendarYearDayTable;
  tokens: TokenTable;
  idempotency_keys: IdempotencyKeyTable;
  evidence_files: EvidenceFileTable;
  evidence_uploads: EvidenceUploadTable;
  evidence_refs: EvidenceRefTable;
  complaints: ComplaintTable;
  notices: NoticeTable;
  deliveries: DeliveryTable;
  webhook_subscribers: WebhookSubscriberTable;
  people: PersonTable;
  person_roles: PersonRoleTable;
  assessment_rules: AssessmentRulesTable;
  bulletins: BulletinTable;
  interviews: InterviewTable;
  journal_streams: JournalStreamTable;
  voided_events: VoidedEventTable;
  case_follow_ups: CaseFollowUpTable;
}
