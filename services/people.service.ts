import crypto from 'node:crypto';
import type { Actor } from '../domain/case.schema';
import { DomainError, type FieldIssue } from '../domain/errors';
import type { ResponsiblePerson } from '../domain/person-id';
import {
  type Channel,
  type DepartmentRole,
  departmentPersonInputSchema,
  type Language,
  type OfficeRole,
  officePersonInputSchema,
  type PersonRole,
  personChangeSchema,
  personRolesInputSchema,
  roleFits,
} from '../domain/person.schema';
import { parseInput } from '../domain/validation';
import { findTask } from '../db/case.repository';
import type { Db } from '../db/database';
import { findDepartment } from '../db/department.repository';
import { reviveIncompleteNotices } from '../db/notice.repository';
import {
  deactivatePersonRow,
  findPeople,
  findPerson,
  holdersOf,
  insertPerson,
  listPeople,
  type Person,
  replacePersonRoles,
  updatePersonRow,
} from '../db/person.repository';

/** How to reach a person, and in which language: shown only to those who may see it. */
export interface PersonContact {
  readonly phone: string | null;
  readonly email: string | null;
  readonly language: Language;
  readonly channels: Channel[];
}

/** A person as a caller sees them: `contact` is null unless the caller may see it. */
export interface PersonView {
  readonly id: string;
  /** Their department; null for the office's own staff. */
  readonly department: string | null;
  readonly name: string;
  readonly post: string;
  readonly roles: PersonRole[];
  readonly active: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly deactivatedAt: string | null;
  readonly contact: PersonContact | null;
}

/** A task's 责任人 as a caller sees them: name and post as of the assignment; contact as the directory has it now. */
export interface ResponsiblePersonView extends ResponsiblePerson {
  /** Whether they are still in the directory (a deactivated person can no longer be reached). */
  readonly active: boolean;
  readonly contact: PersonContact | null;
}

/** Where a person belongs: a department, or the office itself. */
export type Unit = { readonly department: string } | { readonly office: true };

/**
 * Someone a notice is for, as the notice names them: the responsible person of a task, whoever
 * holds a role in a department, or whoever holds a role in the office.
 */
export type Addressee =
  | { readonly kind: 'responsible_person'; readonly taskId: string }
  | { readonly kind: 'department_role'; readonly department: string; readonly role: DepartmentRole }
  | { readonly kind: 'office_role'; readonly role: OfficeRole };

/** A person to send a notice to, with their language and the ways to reach them. */
export interface Recipient {
  readonly personId: string;
  readonly name: string;
  readonly post: string;
  /** Their department; null for the office's own staff. */
  readonly department: string | null;
  readonly language: Language;
  /** The channels they chose that have an address, in their order of preference (empty: unreachable). */
  readonly channels: readonly { readonly channel: Channel; readonly address: string }[];
}

/**
 * Whether `viewer` may see the contact data of a person of `department` (null: of the office):
 * the office may; a department only for its own people. No viewer is the office's own command line.
 */
export function seesContactOf(viewer: Actor | undefined, department: string | null): boolean {
  if (viewer === undefined || viewer.role === 'office' || viewer.role === 'system') return true;
  return department !== null && viewer.department === department;
}

const contactOf = (person: Person): PersonContact => ({
  phone: person.phone,
  email: person.email,
  language: person.language,
  channels: person.channels,
});

/** A person as `viewer` may see them. */
export function personView(person: Person, viewer: Actor | undefined): PersonView {
  return {
    id: person.id,
    department: person.department,
    name: person.name,
    post: person.post,
    roles: person.roles,
    active: person.active,
    createdAt: person.createdAt,
    updatedAt: person.updatedAt,
    deactivatedAt: person.deactivatedAt,
    contact: seesContactOf(viewer, person.department) ? contactOf(person) : null,
  };
}

const unitName = (department: string | null) => (department === null ? '督办机构 / the office' : `部门 ${department} / department ${department}`);

const notFound = (id: string) => new DomainError('not_found', `人员 ${id} 不存在 / no person ${id}`);

/** 409 naming `path`: the state of the directory refuses this. */
const refused = (message: string, path: string) => new DomainError('invalid_state', message, [{ path, message }]);

/**
 * The directory of people and posts (人员与岗位) of each department and of the office, shared by the
 * CLI and the HTTP API: who they are, how to reach them, which roles they hold; the rule that a
 * task's responsible person is an active person of its department; and, for notices, who is to be
 * reached for a role and how.
 */
export function createPeopleService(deps: {
  db: Db;
  now?: () => Date;
  /** Called after the directory changed in a way that may reach someone new (wakes the notice dispatcher). */
  onDirectoryChange?: () => Promise<void>;
}) {
  const now = deps.now ?? (() => new Date());

  /** Someone may now hold a role a notice missed: those notices are due for planning again. */
  async function directoryChanged(): Promise<void> {
    if ((await reviveIncompleteNotices(deps.db, now().toISOString())) > 0) await deps.onDirectoryChange?.().catch(() => undefined);
  }

  async function requirePerson(id: string): Promise<Person> {
    const person = await findPerson(deps.db, id);
    if (!person) throw notFound(id);
    return person;
  }

  /** The department a list or an addition is for: 404 when there is none, 409 when it is inactive (for additions). */
  async function requireDepartment(code: string, forAddition: boolean): Promise<void> {
    const department = await findDepartment(deps.db, code);
    if (!department) throw new DomainError('not_found', `部门 ${code} 不存在 / no department ${code}`);
    if (forAddition && !department.active) throw refused(`部门 ${code} 已停用 / department ${code} is inactive`, 'department');
  }

  /** Checks that `roles` fit `person` (a department's roles, or the office's) and that the person is active. */
  function checkRoles(person: Person, roles: readonly PersonRole[]): void {
    if (roles.length > 0 && !person.active) {
      throw refused(`人员 ${person.id} 已停用，不能担任角色 / ${person.id} is deactivated and holds no role`, 'roles');
    }
    const office = person.department === null;
    const misfits: FieldIssue[] = roles.flatMap((role, i) =>
      roleFits(role, office)
        ? []
        : [{ path: `roles[${i}]`, message: `${role} 不是${unitName(person.department)}的角色 / not a role of ${office ? 'the office' : 'a department'}` }],
    );
    if (misfits.length > 0) {
      throw new DomainError(
        'invalid_state',
        `角色不适用于${unitName(person.department)}的人员 / ${misfits.map((m) => m.message).join('; ')}`,
        misfits,
      );
    }
  }

  async function setRolesOf(person: Person, roles: readonly PersonRole[]): Promise<Person> {
    checkRoles(person, roles);
    await replacePersonRoles(deps.db, person.id, roles, now().toISOString());
    return requirePerson(person.id);
  }

  return {
    /** The people of department `code` (active ones unless `includeInactive`), as `viewer` may see them. */
    async listDepartmentPeople(code: string, viewer: Actor | undefined, options: { includeInactive?: boolean } = {}): Promise<PersonView[]> {
      await requireDepartment(code, false);
      const people = await listPeople(deps.db, { department: code, includeInactive: options.includeInactive ?? false });
      return people.map((p) => personView(p, viewer));
    },

    /** The office's own staff, as `viewer` may see them. */
    async listOfficePeople(viewer: Actor | undefined, options: { includeInactive?: boolean } = {}): Promise<PersonView[]> {
      const people = await listPeople(deps.db, { department: null, includeInactive: options.includeInactive ?? false });
      return people.map((p) => personView(p, viewer));
    },

    /** Everyone in the directory: the office's staff, then each department's people. */
    async listEveryone(viewer: Actor | undefined, options: { includeInactive?: boolean } = {}): Promise<PersonView[]> {
      const people = await listPeople(deps.db, { includeInactive: options.includeInactive ?? false });
      return people.map((p) => personView(p, viewer));
    },

    /** One person, as `viewer` may see them. */
    async getPerson(id: string, viewer: Actor | undefined): Promise<PersonView> {
      return personView(await requirePerson(id), viewer);
    },

    /**
     * Adds a person to a department or to the office, holding the roles given. Without `channels`,
     * a person with an e-mail address is reached by e-mail.
     */
    async addPerson(unit: Unit, input: unknown): Promise<PersonView> {
      const department = 'department' in unit ? unit.department : null;
      const parsed =
        department === null ? parseInput(officePersonInputSchema, input, 'person') : parseInput(departmentPersonInputSchema, input, 'person');
      if (department !== null) await requireDepartment(department, true);
      const at = now().toISOString();
      const row = {
        department_code: department,
        name: parsed.name,
        post: parsed.post,
        phone: parsed.phone ?? null,
        email: parsed.email ?? null,
        language: parsed.language,
        channels: JSON.stringify(parsed.channels ?? (parsed.email ? ['email'] : [])),
        active: 1,
        created_at: at,
        updated_at: at,
        deactivated_at: null,
      };
      // 48 random bits: a collision is all but impossible, and then simply another draw.
      for (let attempt = 0; attempt < 5; attempt++) {
        const id = `p_${crypto.randomBytes(6).toString('hex')}`;
        const inserted = await deps.db.transaction().execute((trx) => insertPerson(trx, { id, ...row }, parsed.roles));
        if (inserted) {
          await directoryChanged();
          return personView(await requirePerson(id), undefined);
        }
      }
      throw new Error('could not draw a free person id');
    },

    /** Changes a person's name, post, contact data, language or channels; a deactivated person is not changed. */
    async changePerson(id: string, input: unknown): Promise<PersonView> {
      const change = parseInput(personChangeSchema, input, 'person');
      const person = await requirePerson(id);
      if (!person.active) throw refused(`人员 ${id} 已停用 / ${id} is deactivated`, 'id');
      const email = change.email === undefined ? person.email : change.email;
      const channels = change.channels ?? person.channels;
      if (channels.includes('email') && email === null) {
        // The request is well formed; what it leaves stored is not: say which of the two to change.
        throw refused(
          '选择电子邮件渠道须有电子邮件地址 / the email channel needs an e-mail address: give one, or drop the channel',
          change.email === null ? 'email' : 'channels',
        );
      }
      await updatePersonRow(deps.db, id, {
        ...(change.name !== undefined ? { name: change.name } : {}),
        ...(change.post !== undefined ? { post: change.post } : {}),
        ...(change.phone !== undefined ? { phone: change.phone } : {}),
        ...(change.email !== undefined ? { email: change.email } : {}),
        ...(change.language !== undefined ? { language: change.language } : {}),
        ...(change.channels !== undefined ? { channels: JSON.stringify(change.channels) } : {}),
        updated_at: now().toISOString(),
      });
      await directoryChanged();
      return personView(await requirePerson(id), undefined);
    },

    /**
     * Removes a person from the directory: deactivated, they hold no role and cannot be named
     * responsible, while every record that names them keeps their name. Removing one removed
     * already changes nothing.
     */
    async deactivatePerson(id: string): Promise<PersonView> {
      await requirePerson(id);
      await deps.db.transaction().execute((trx) => deactivatePersonRow(trx, id, now().toISOString()));
      return personView(await requirePerson(id), undefined);
    },

    /** Makes the roles given exactly those a person holds (a department's roles for its people, the office's for its staff). */
    async setRoles(id: string, input: unknown): Promise<PersonView> {
      const { roles } = parseInput(personRolesInputSchema, input, 'roles');
      const changed = await setRolesOf(await requirePerson(id), roles);
      await directoryChanged();
      return personView(changed, undefined);
    },

    /** Adds and removes roles of a person (`duban person role`). */
    async changeRoles(id: string, change: { add?: readonly string[]; remove?: readonly string[] }): Promise<PersonView> {
      const person = await requirePerson(id);
      const remove = new Set(change.remove ?? []);
      const wanted = [...new Set([...person.roles, ...(change.add ?? [])])].filter((role) => !remove.has(role));
      const { roles } = parseInput(personRolesInputSchema, { roles: wanted }, 'roles');
      const changed = await setRolesOf(person, roles);
      await directoryChanged();
      return personView(changed, undefined);
    },

    /**
     * The rule for naming a task's responsible person (责任人): an active person of the task's
     * department. Returns the person as the task records them; a refusal is a 409 naming `field`.
     */
    async responsiblePersonFor(personId: string, department: string, field: string): Promise<ResponsiblePerson> {
      const person = await findPerson(deps.db, personId);
      if (!person) throw refused(`人员 ${personId} 不存在 / no person ${personId}`, field);
      if (!person.active) throw refused(`人员 ${personId} 已停用 / ${personId} is deactivated`, field);
      if (person.department !== department) {
        throw refused(
          `人员 ${personId} 不属于部门 ${department} / ${personId} is not a person of department ${department}`,
          field,
        );
      }
      return { id: person.id, name: person.name, post: person.post };
    },

    /** Tasks' responsible persons as `viewer` may see them: contact data from the directory as it is now. */
    async responsiblePersonViews(
      persons: readonly (ResponsiblePerson | null)[],
      viewer: Actor | undefined,
    ): Promise<(ResponsiblePersonView | null)[]> {
      const found = new Map(
        (await findPeople(deps.db, persons.flatMap((p) => (p ? [p.id] : [])))).map((p) => [p.id, p]),
      );
      return persons.map((snapshot) => {
        if (!snapshot) return null;
        const person = found.get(snapshot.id);
        return {
          id: snapshot.id,
          name: snapshot.name,
          post: snapshot.post,
          active: person?.active ?? false,
          contact: person && seesContactOf(viewer, person.department) ? contactOf(person) : null,
        };
      });
    },

    /**
     * Who is to receive a notice for each addressee, resolved from the directory as it is now: the
     * task's responsible person (if named and still active), or the active holders of a role of a
     * department or of the office; each with their language and the channels they can be reached
     * on. An addressee nobody answers for comes back with no recipients (a notice then belongs to
     * the office as an alert); a person holding several of the roles asked for comes back under
     * each, so a sender that wants one notice per person removes the repeats by `personId`.
     */
    async recipientsFor(addressees: readonly Addressee[]): Promise<{ addressee: Addressee; recipients: Recipient[] }[]> {
      const results: { addressee: Addressee; recipients: Recipient[] }[] = [];
      for (const addressee of addressees) {
        let people: Person[];
        if (addressee.kind === 'responsible_person') {
          const named = (await findTask(deps.db, addressee.taskId))?.responsiblePerson;
          const person = named ? await findPerson(deps.db, named.id) : undefined;
          people = person?.active ? [person] : [];
        } else if (addressee.kind === 'department_role') {
          people = await holdersOf(deps.db, { department: addressee.department, role: addressee.role });
        } else {
          people = await holdersOf(deps.db, { department: null, role: addressee.role });
        }
        results.push({ addressee, recipients: people.map(recipientOf) });
      }
      return results;
    },
  };
}

function recipientOf(person: Person): Recipient {
  const addressOf = (channel: Channel): string | null => (channel === 'email' ? person.email : null);
  return {
    personId: person.id,
    name: person.name,
    post: person.post,
    department: person.department,
    language: person.language,
    channels: person.channels.flatMap((channel) => {
      const address = addressOf(channel);
      return address ? [{ channel, address }] : [];
    }),
  };
}

export type PeopleService = ReturnType<typeof createPeopleService>;
