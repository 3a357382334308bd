import { Option } from 'commander';
import { z } from 'zod';
import { instantSchema } from '../domain/time';
import { deliveryStatuses } from '../services/notice.service';
import { type CliEnv, officeActor, print, printAs } from './context';

const deliveriesSchema = z.array(
  z.looseObject({ nextAttemptAt: instantSchema.nullable(), sentAt: instantSchema.nullable(), createdAt: instantSchema }),
);
const webhooksSchema = z.array(z.looseObject({ createdAt: instantSchema }));

/**
 * `duban notifications list|retry`: the deliveries of notices, failed ones to send again;
 * `duban outbox`: what waits to be sent; `duban webhook add|list|secret|remove`: the systems that
 * receive notices as signed webhooks.
 */
export function notificationCommands({ program, context, actorName }: CliEnv): void {
  const zone = () => context().config.timeZone;
  const notifications = program.command('notifications').description('deliveries of notices (通知投递)');
  notifications
    .command('list')
    .description('deliveries, newest first')
    .addOption(new Option('--status <status>', 'only these').choices([...deliveryStatuses]))
    .option('--case <id>', 'only this case’s')
    .option('--limit <n>', 'at most this many', (v) => Number.parseInt(v, 10), 100)
    .action(async (o: { status?: (typeof deliveryStatuses)[number]; case?: string; limit: number }) => {
      const service = await context().notices();
      printAs(deliveriesSchema, await service.listDeliveries({ limit: o.limit, ...(o.status ? { status: o.status } : {}), ...(o.case ? { caseId: o.case } : {}) }), zone());
    });
  notifications
    .command('retry')
    .description('send a failed delivery again')
    .argument('<id>', 'the delivery id (dl_…)')
    .action(async (id: string) => {
      await (await context().notices({ wake: true })).retry(id, officeActor(actorName()));
      print({ retried: id });
    });

  program
    .command('outbox')
    .description('notices waiting to be sent')
    .option('--case <id>', 'only this case’s')
    .action(async (o: { case?: string }) => {
      const service = await context().notices();
      const waiting = [
        ...(await service.listDeliveries({ status: 'pending', limit: 500, ...(o.case ? { caseId: o.case } : {}) })),
        ...(await service.listDeliveries({ status: 'sending', limit: 500, ...(o.case ? { caseId: o.case } : {}) })),
      ];
      printAs(deliveriesSchema, waiting, zone());
    });

  const webhook = program.command('webhook').description('systems that receive notices as signed webhooks');
  webhook
    .command('add')
    .description('add a subscriber; prints its signing secret')
    .requiredOption('--name <name>', 'what it is, e.g. 城管局业务系统')
    .requiredOption('--url <url>', 'where notices are posted (https)')
    .option('--dept <code>', 'only this department’s notices (default: all)')
    .action(async (o: { name: string; url: string; dept?: string }) => {
      const service = await context().notices();
      print(await service.addWebhook({ name: o.name, url: o.url, ...(o.dept ? { department: o.dept } : {}) }));
      process.stderr.write('请将签名密钥配置到接收方 / configure the secret at the receiver (docs/notifications.md)\n');
    });
  webhook
    .command('list')
    .description('subscribers')
    .action(async () => printAs(webhooksSchema, await (await context().notices()).listWebhooks(), zone()));
  webhook
    .command('secret')
    .description('a subscriber’s signing secret, again')
    .argument('<id>')
    .action(async (id: string) => print({ id, secret: await (await context().notices()).webhookSecret(id) }));
  webhook
    .command('remove')
    .description('stop sending to a subscriber')
    .argument('<id>')
    .action(async (id: string) => {
      await (await context().notices()).removeWebhook(id);
      print({ removed: id });
    });
}
