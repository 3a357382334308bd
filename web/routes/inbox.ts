import type { FastifyInstance } from 'fastify';
import type { PageKit, WebDeps } from '../plugin';
import { pageContext, sendPage } from '../render';
import { requireUser } from '../staff';

/** A department's inbox: its live tasks, the earliest deadline first, overdue and rung marked. */
export function inboxRoutes(kit: PageKit, deps: WebDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/inbox', { schema: { hide: true } }, async (request, reply) => {
      const user = await requireUser(kit, deps, request, reply);
      if (!user) return reply;
      if (user.role !== 'department') return reply.redirect('/office', 303);
      const items = await deps.workbench.inbox(user.department!);
      return sendPage(reply, pageContext(kit.site, request), 'inbox', { items, department: user.department });
    });
  };
}
