import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiStack, dataOf, type JsonBody, startApiStack } from './support/api';

/**
 * People and posts over real HTTP: who sees whose contact data (the office; the person's own
 * department; not another department, even one cooperating on the same case; not the public), and
 * the responsible person of a task named through the API.
 */
describe('people and the responsible person over the HTTP API', () => {
  let api: ApiStack;
  beforeAll(async () => {
    api = await startApiStack();
  });
  afterAll(() => api?.close());

  const zhangContact = { phone: '13800000001', email: 'zhang@example.org', language: 'zh-CN', channels: ['email'] };

  it('lets every token holder see who is who, and only the office and the own department how to reach them', async () => {
    const added = await api.as.office.POST('/api/v1/departments/{code}/people', {
      params: { path: { code: 'CG' } },
      body: { name: '张三', post: '市容科科长', phone: '13800000001', email: 'zhang@example.org', roles: ['head', 'liaison'] },
    });
    expect(added.response.status).toBe(201);
    const zhang = dataOf(added);
    expect(added.response.headers.get('location')).toBe(`/api/v1/people/${zhang.id}`);
    expect(zhang).toMatchObject({ department: 'CG', roles: ['head', 'liaison'], active: true, contact: zhangContact });
    expect(zhang.createdAt).toMatch(/\+08:00$/);
    const lead = dataOf(await api.as.office.POST('/api/v1/office/people', { body: { name: '周主任', post: '督查办负责人', email: 'zhou@example.org', roles: ['lead'] } }));

    const cgPeople = (as: typeof api.as.office) => as.GET('/api/v1/departments/{code}/people', { params: { path: { code: 'CG' } } });
    expect(dataOf(await cgPeople(api.as.office)).map((p) => p.contact)).toEqual([zhangContact]);
    expect(dataOf(await cgPeople(api.as.CG)).map((p) => p.contact)).toEqual([zhangContact]);
    expect(dataOf(await cgPeople(api.as.JD)).map((p) => [p.name, p.post, p.roles, p.contact])).toEqual([['张三', '市容科科长', ['head', 'liaison'], null]]);
    expect((await cgPeople(api.as.public)).response.status).toBe(401);
    const one = (as: typeof api.as.office, personId: string) => as.GET('/api/v1/people/{personId}', { params: { path: { personId } } });
    expect(dataOf(await one(api.as.SJ, zhang.id)).contact).toBeNull();
    expect(dataOf(await one(api.as.CG, zhang.id)).contact).toEqual(zhangContact);
    expect(dataOf(await one(api.as.CG, lead.id)).contact).toBeNull();
    expect(dataOf(await api.as.CG.GET('/api/v1/office/people')).map((p) => [p.name, p.contact])).toEqual([['周主任', null]]);
    expect(dataOf(await api.as.office.GET('/api/v1/office/people'))[0]?.contact).toMatchObject({ email: 'zhou@example.org' });
    expect((await one(api.as.office, 'p_000000000000')).response.status).toBe(404);
    expect((await api.as.office.GET('/api/v1/departments/{code}/people', { params: { path: { code: 'NOPE' } } })).response.status).toBe(404);
  });

  it('states its rules in the schema where it can, and names the field where the stored state refuses', async () => {
    // Raw: a body the document forbids (the e-mail channel without an address).
    const noAddress = await api.call('POST', '/api/v1/departments/CG/people', { token: api.tokens.office, body: { name: '甲', post: '科员', channels: ['email'] } });
    expect(noAddress.status).toBe(400);
    expect(noAddress.body.error.details.map((d: { path: string }) => d.path)).toEqual(['body.email']);
    const wrongRole = await api.call('POST', '/api/v1/office/people', { token: api.tokens.office, body: { name: '乙', post: '科员', roles: ['head'] } });
    expect(wrongRole.status).toBe(400);

    const li = dataOf(
      await api.as.office.POST('/api/v1/departments/{code}/people', { params: { path: { code: 'CG' } }, body: { name: '李四', post: '科员', email: 'li@example.org' } }),
    );
    const path = { params: { path: { personId: li.id } } };
    const cleared = await api.as.office.PATCH('/api/v1/people/{personId}', { ...path, body: { email: null } });
    expect(cleared.response.status).toBe(409);
    expect(cleared.error?.error).toMatchObject({ code: 'invalid_state', details: [{ path: 'email' }] });
    expect(dataOf(await api.as.office.PATCH('/api/v1/people/{personId}', { ...path, body: { post: '副科长', phone: '0571-88000002' } }))).toMatchObject({
      post: '副科长',
      contact: { phone: '0571-88000002', email: 'li@example.org' },
    });
    const officeRole = await api.as.office.PUT('/api/v1/people/{personId}/roles', { ...path, body: { roles: ['liaison', 'clerk'] } });
    expect(officeRole.response.status).toBe(409);
    expect(officeRole.error?.error.details.map((d) => d.path)).toEqual(['roles[1]']);
    expect(dataOf(await api.as.office.PUT('/api/v1/people/{personId}/roles', { ...path, body: { roles: ['deputy'] } })).roles).toEqual(['deputy']);
    const removed = dataOf(await api.as.office.POST('/api/v1/people/{personId}/deactivate', path));
    expect(removed).toMatchObject({ active: false, roles: [] });
    expect((await api.as.office.PUT('/api/v1/people/{personId}/roles', { ...path, body: { roles: ['deputy'] } })).response.status).toBe(409);
    const listed = await api.as.office.GET('/api/v1/departments/{code}/people', { params: { path: { code: 'CG' }, query: { includeInactive: 'true' } } });
    expect(dataOf(listed).find((p) => p.id === li.id)).toMatchObject({ active: false });
  });

  it('shows a task’s responsible person to all who see the task, and their contact data to the office and the own department', async () => {
    const people = dataOf(await api.as.office.GET('/api/v1/departments/{code}/people', { params: { path: { code: 'CG' } } }));
    const zhang = people.find((p) => p.name === '张三')!;
    const jdPerson = dataOf(
      await api.as.office.POST('/api/v1/departments/{code}/people', { params: { path: { code: 'JD' } }, body: { name: '王五', post: '城管科科长', email: 'wang@example.org' } }),
    );
    const body: JsonBody<'/api/v1/cases', 'post'> = {
      title: '人民路占道经营',
      category: '市容秩序',
      severity: 'serious',
      source: 'inspection',
      leadDepartment: 'CG',
      cooperatingDepartments: ['JD'],
    };
    const misnamed = await api.as.office.POST('/api/v1/cases', { body: { ...body, responsiblePersons: { CG: jdPerson.id } } });
    expect(misnamed.response.status).toBe(409);
    expect(misnamed.error?.error).toMatchObject({ code: 'invalid_state', details: [{ path: 'responsiblePersons.CG' }] });
    const outside = await api.as.office.POST('/api/v1/cases', { body: { ...body, responsiblePersons: { SJ: jdPerson.id } } });
    expect(outside.response.status).toBe(422);

    const opened = dataOf(await api.as.office.POST('/api/v1/cases', { body: { ...body, responsiblePersons: { CG: zhang.id } } }));
    const caseId = opened.caseId;
    const shown = async (as: typeof api.as.office) => as.GET('/api/v1/cases/{caseId}', { params: { path: { caseId } } });
    const asOffice = dataOf(await shown(api.as.office));
    expect(asOffice.tasks[0]?.responsiblePerson).toEqual({ id: zhang.id, name: '张三', post: '市容科科长', active: true, contact: zhangContact });
    expect(dataOf(await shown(api.as.CG)).tasks[0]?.responsiblePerson?.contact).toEqual(zhangContact);
    // JD cooperates on the case: it sees who owns CG's task, not how to reach them.
    const asJd = dataOf(await shown(api.as.JD));
    expect(asJd.tasks[0]?.responsiblePerson).toEqual({ id: zhang.id, name: '张三', post: '市容科科长', active: true, contact: null });
    expect(JSON.stringify(asJd)).not.toContain('13800000001');
    expect(JSON.stringify(asJd)).not.toContain('zhang@example.org');
    expect(asJd.events.find((e) => e.action === 'task.responsible_person_assigned')?.payload).toEqual({ personId: zhang.id, name: '张三', post: '市容科科长' });
    expect((await shown(api.as.SJ)).response.status).toBe(404);
    expect((await shown(api.as.public)).response.status).toBe(401);

    // JD names its own person when it acknowledges; CG sees that one without contact data.
    const t2 = { path: { caseId, taskId: `${caseId}-T2` } };
    const acknowledged = await api.as.JD.POST('/api/v1/cases/{caseId}/tasks/{taskId}/acknowledge', { params: t2, body: { responsiblePersonId: jdPerson.id } });
    expect(dataOf(acknowledged)).toMatchObject({ status: 'acknowledged', responsiblePerson: { id: jdPerson.id, contact: { email: 'wang@example.org' } } });
    expect(dataOf(await shown(api.as.CG)).tasks[1]?.responsiblePerson).toMatchObject({ name: '王五', contact: null });

    // The task command: the department itself, with one of its own; never another department's task or person.
    const t1 = { path: { caseId, taskId: `${caseId}-T1` } };
    const li = dataOf(
      await api.as.office.POST('/api/v1/departments/{code}/people', { params: { path: { code: 'CG' } }, body: { name: '赵六', post: '执法中队长' } }),
    );
    const byCg = await api.as.CG.POST('/api/v1/cases/{caseId}/tasks/{taskId}/responsible-person', { params: t1, body: { personId: li.id } });
    expect(dataOf(byCg)).toMatchObject({ taskId: `${caseId}-T1`, responsiblePerson: { id: li.id, name: '赵六', contact: { email: null, channels: [] } } });
    const byJd = await api.as.JD.POST('/api/v1/cases/{caseId}/tasks/{taskId}/responsible-person', { params: t1, body: { personId: jdPerson.id } });
    expect(byJd.response.status).toBe(403);
    const stranger = await api.as.office.POST('/api/v1/cases/{caseId}/tasks/{taskId}/responsible-person', { params: t1, body: { personId: jdPerson.id } });
    expect(stranger.response.status).toBe(409);
    expect(stranger.error?.error.details).toEqual([{ path: 'personId', message: expect.stringContaining('CG') }]);
    expect(dataOf(await shown(api.as.office)).tasks[0]?.responsiblePerson).toMatchObject({ id: li.id, name: '赵六' });
    await api.as.office.POST('/api/v1/cases/{caseId}/withdraw', { params: { path: { caseId } }, body: { reason: '测试结束' } });
  });
});
