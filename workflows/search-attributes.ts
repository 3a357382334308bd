import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Status of a case or task, for filtering in the Temporal web UI and visibility queries. */
export const statusSearchAttribute = defineSearchAttributeKey('DubanStatus', SearchAttributeType.KEYWORD);
/** Departments a case or task involves. */
export const departmentsSearchAttribute = defineSearchAttributeKey(
  'DubanDepartments',
  SearchAttributeType.KEYWORD_LIST,
);

/** Every search attribute duban's workflows set; registered on the server at start. */
export const dubanSearchAttributes = [statusSearchAttribute, departmentsSearchAttribute] as const;
