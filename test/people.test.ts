import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../db/database';
import { createPeopleService, type PeopleService } from '../services/people.service';
import { refusal } from './support/assertions';
import { dept, office } from './support/fixtures';
import { tempDatabase } from './support/database';

/** The directory's rules, on a real SQLite file. */
describe('people and posts (人员与岗位)', () => {
  let db: Db;
  let dir: string;
  let people: PeopleService;

  beforeEach(async () => {
    ({ db, dir } = await tempDatabase(['CG', 'JD', 'SJ']));
    await db.updateTable('departments').set({ active: 0 }).where('code', '=', 'SJ').execute();
    people = createPeopleService({ db });
  });
  afterEach(async () => {
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const cg = (name: string, extra: Record<string, unknown> = {}) =>
    people.addPerson({ department: 'CG' }, { name, post: '科员', ...extra });

  it('adds people to a department and to the office, each role fitting where they belong', async () => {
    const head = await cg('王局长', { post: '局长', phone: '0571-88000001', email: 'wang@example.org', roles: ['head'] });
    expect(head).toMatchObject({
      id: expect.stringMatching(/^p_[0-9a-f]{12}$/),
      department: 'CG',
      name: '王局长',
      post: '局长',
      roles: ['head'],
      active: true,
      deactivatedAt: null,
      // With an e-mail address and no channels given, e-mail is how they are reached.
      contact: { phone: '0571-88000001', email: 'wang@example.org', language: 'zh-CN', channels: ['email'] },
    });
    const lead = await people.addPerson({ office: true }, { name: '周主任', post: '督查办负责人', language: 'en', roles: ['lead'] });
    expect(lead).toMatchObject({ department: null, roles: ['lead'], contact: { language: 'en', channels: [], email: null } });

    // A department's roles are not the office's, nor the other way round: the schema says so (invalid input).
    expect((await refusal(cg('甲', { roles: ['lead'] }))).details.map((d) => d.path)).toEqual(['roles[0]']);
    expect((await refusal(people.addPerson({ office: true }, { name: '乙', post: '科员', roles: ['head'] }))).code).toBe('invalid_input');
    // Nor may a role be listed twice.
    expect((await refusal(cg('丙', { roles: ['head', 'head'] }))).details.map((d) => d.path)).toEqual(['roles']);
    // A department that does not exist is not there (404); one that is inactive takes no one (409).
    expect((await refusal(people.addPerson({ department: 'NOPE' }, { name: '丁', post: '科员' }))).code).toBe('not_found');
    const inactive = await refusal(people.addPerson({ department: 'SJ' }, { name: '戊', post: '科员' }));
    expect([inactive.code, inactive.details.map((d) => d.path)]).toEqual(['invalid_state', ['department']]);
    // The e-mail channel needs an address.
    const noAddress = await refusal(cg('己', { channels: ['email'] }));
    expect([noAddress.code, noAddress.details.map((d) => d.path)]).toEqual(['invalid_input', ['email']]);
    expect((await people.listDepartmentPeople('CG', undefined)).map((p) => p.name)).toEqual(['王局长']);
  });

  it('lets several people hold a role and one person hold several roles', async () => {
    const a = await cg('甲', { roles: ['deputy', 'liaison'] });
    const b = await cg('乙', { roles: ['liaison'] });
    expect(a.roles).toEqual(['deputy', 'liaison']);
    const listed = await people.listDepartmentPeople('CG', office);
    expect(listed.map((p) => [p.name, p.roles])).toEqual([
      ['乙', ['liaison']],
      ['甲', ['deputy', 'liaison']],
    ]);
    const liaisons = await people.recipientsFor([{ kind: 'department_role', department: 'CG', role: 'liaison' }]);
    expect(liaisons[0]!.recipients.map((r) => r.personId).sort()).toEqual([a.id, b.id].sort());

    // Roles are set as a whole, or given and taken one by one; the roles that do not fit are named.
    expect((await people.setRoles(b.id, { roles: ['head', 'liaison'] })).roles).toEqual(['head', 'liaison']);
    expect((await people.changeRoles(b.id, { add: ['deputy'], remove: ['liaison'] })).roles).toEqual(['head', 'deputy']);
    const misfit = await refusal(people.setRoles(b.id, { roles: ['head', 'clerk'] }));
    expect([misfit.code, misfit.details.map((d) => d.path)]).toEqual(['invalid_state', ['roles[1]']]);
    expect((await people.getPerson(b.id, office)).roles).toEqual(['head', 'deputy']);
    expect((await refusal(people.setRoles('p_000000000000', { roles: [] }))).code).toBe('not_found');
  });

  it('removes a person by deactivating them: no role, not listed, not to be named, their name kept', async () => {
    const a = await cg('甲', { email: 'jia@example.org', roles: ['head', 'liaison'] });
    const removed = await people.deactivatePerson(a.id);
    expect(removed).toMatchObject({ id: a.id, name: '甲', active: false, roles: [], deactivatedAt: expect.any(String) });
    expect(await db.selectFrom('person_roles').selectAll().where('person_id', '=', a.id).execute()).toEqual([]);
    // Removing again changes nothing.
    expect(await people.deactivatePerson(a.id)).toEqual(removed);
    expect(await people.listDepartmentPeople('CG', office)).toEqual([]);
    expect((await people.listDepartmentPeople('CG', office, { includeInactive: true })).map((p) => p.name)).toEqual(['甲']);
    const noRole = await refusal(people.setRoles(a.id, { roles: ['head'] }));
    expect([noRole.code, noRole.details.map((d) => d.path)]).toEqual(['invalid_state', ['roles']]);
    expect((await refusal(people.changePerson(a.id, { post: '副局长' }))).code).toBe('invalid_state');
    const named = await refusal(people.responsiblePersonFor(a.id, 'CG', 'personId'));
    expect([named.code, named.details.map((d) => d.path)]).toEqual(['invalid_state', ['personId']]);
    expect(named.message).toContain('deactivated');
    // Nobody holds the head's role now: the notice finds no one (an office alert, not a silent drop).
    expect(await people.recipientsFor([{ kind: 'department_role', department: 'CG', role: 'head' }])).toEqual([
      { addressee: { kind: 'department_role', department: 'CG', role: 'head' }, recipients: [] },
    ]);
  });

  it('names a responsible person only from the task’s own department, naming the field at fault', async () => {
    const ofCg = await cg('甲', { post: '市容科科长' });
    const ofJd = await people.addPerson({ department: 'JD' }, { name: '乙', post: '副主任' });
    expect(await people.responsiblePersonFor(ofCg.id, 'CG', 'personId')).toEqual({ id: ofCg.id, name: '甲', post: '市容科科长' });
    const other = await refusal(people.responsiblePersonFor(ofJd.id, 'CG', 'responsiblePersons.CG'));
    expect([other.code, other.details.map((d) => d.path)]).toEqual(['invalid_state', ['responsiblePersons.CG']]);
    expect(other.message).toContain('CG');
    const missing = await refusal(people.responsiblePersonFor('p_000000000000', 'CG', 'responsiblePersonId'));
    expect([missing.code, missing.details.map((d) => d.path)]).toEqual(['invalid_state', ['responsiblePersonId']]);
    const lead = await people.addPerson({ office: true }, { name: '丙', post: '督查办负责人', roles: ['lead'] });
    expect((await refusal(people.responsiblePersonFor(lead.id, 'CG', 'personId'))).code).toBe('invalid_state');
  });

  it('shows contact data to the office and the person’s own department only', async () => {
    const a = await cg('甲', { phone: '13800000000', email: 'jia@example.org', roles: ['head'] });
    const lead = await people.addPerson({ office: true }, { name: '周主任', post: '督查办负责人', email: 'zhou@example.org', roles: ['lead'] });
    const contactOf = async (id: string, viewer: Parameters<PeopleService['getPerson']>[1]) => (await people.getPerson(id, viewer)).contact;
    expect(await contactOf(a.id, office)).toEqual({ phone: '13800000000', email: 'jia@example.org', language: 'zh-CN', channels: ['email'] });
    expect(await contactOf(a.id, dept('CG'))).toMatchObject({ phone: '13800000000' });
    expect(await contactOf(a.id, dept('JD'))).toBeNull();
    // The office's staff are the office's own: departments see who they are, not how to reach them.
    expect(await contactOf(lead.id, dept('CG'))).toBeNull();
    expect(await contactOf(lead.id, office)).toMatchObject({ email: 'zhou@example.org' });
    const seenByJd = await people.listDepartmentPeople('CG', dept('JD'));
    expect(seenByJd.map((p) => [p.name, p.post, p.roles, p.contact])).toEqual([['甲', '科员', ['head'], null]]);
    const views = await people.responsiblePersonViews([{ id: a.id, name: '甲', post: '科员' }, null], dept('JD'));
    expect(views).toEqual([{ id: a.id, name: '甲', post: '科员', active: true, contact: null }, null]);
    expect((await people.responsiblePersonViews([{ id: a.id, name: '甲', post: '科员' }], dept('CG')))[0]?.contact).toMatchObject({
      email: 'jia@example.org',
    });
  });

  it('changes a person’s fields, keeping the e-mail channel reachable', async () => {
    const a = await cg('甲', { phone: '13800000000', email: 'jia@example.org' });
    const changed = await people.changePerson(a.id, { post: '副科长', phone: null, language: 'en' });
    expect(changed).toMatchObject({ post: '副科长', contact: { phone: null, email: 'jia@example.org', language: 'en', channels: ['email'] } });
    // Clearing the address while the channel stays is what the stored person refuses: 409, naming the field.
    const cleared = await refusal(people.changePerson(a.id, { email: null }));
    expect([cleared.code, cleared.details.map((d) => d.path)]).toEqual(['invalid_state', ['email']]);
    const noAddress = await cg('乙');
    const channel = await refusal(people.changePerson(noAddress.id, { channels: ['email'] }));
    expect([channel.code, channel.details.map((d) => d.path)]).toEqual(['invalid_state', ['channels']]);
    // Both in one request: the schema refuses it.
    expect((await refusal(people.changePerson(a.id, { email: null, channels: ['email'] }))).code).toBe('invalid_input');
    expect((await refusal(people.changePerson(a.id, {}))).code).toBe('invalid_input');
    expect((await people.changePerson(a.id, { email: null, channels: [] })).contact).toMatchObject({ email: null, channels: [] });
  });

  it('resolves who to notify, with their language and the channels they can be reached on', async () => {
    const head = await cg('王局长', { email: 'wang@example.org', language: 'en', roles: ['head'] });
    const deputy = await cg('李副局长', { roles: ['deputy'] });
    await people.addPerson({ department: 'JD' }, { name: '街道主任', post: '主任', email: 'jd@example.org', roles: ['head'] });
    const lead = await people.addPerson({ office: true }, { name: '周主任', post: '督查办负责人', email: 'zhou@example.org', roles: ['lead'] });
    const resolved = await people.recipientsFor([
      { kind: 'department_role', department: 'CG', role: 'head' },
      { kind: 'department_role', department: 'CG', role: 'deputy' },
      { kind: 'office_role', role: 'lead' },
      { kind: 'office_role', role: 'clerk' },
      { kind: 'responsible_person', taskId: 'DB-2026-000001-T1' },
    ]);
    expect(resolved.map((r) => r.recipients)).toEqual([
      [{ personId: head.id, name: '王局长', post: '科员', department: 'CG', language: 'en', channels: [{ channel: 'email', address: 'wang@example.org' }] }],
      // Holding the role but without any address: resolved, and seen to be unreachable.
      [{ personId: deputy.id, name: '李副局长', post: '科员', department: 'CG', language: 'zh-CN', channels: [] }],
      [{ personId: lead.id, name: '周主任', post: '督查办负责人', department: null, language: 'zh-CN', channels: [{ channel: 'email', address: 'zhou@example.org' }] }],
      [],
      // No such task (or none named): nobody.
      [],
    ]);
  });
});
