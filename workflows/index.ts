/** The workflow types the worker registers. */
export { caseWorkflow } from './case.workflow';
export { taskWorkflow } from './task.workflow';
export { noticeDispatcherWorkflow } from './notices.workflow';
export { bulletinDraftWorkflow } from './bulletin.workflow';
