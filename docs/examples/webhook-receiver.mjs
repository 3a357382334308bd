// A receiver of duban's webhooks, with nothing but Node.js (18 or later):
//   DUBAN_WEBHOOK_SECRET=<the subscriber's secret> PORT=8787 node docs/examples/webhook-receiver.mjs
// It checks each notice's signature and age, answers 2xx once it has taken the notice, and takes a
// delivery it has seen before (a resend after a failure on either side) only once.
import crypto from 'node:crypto';
import http from 'node:http';

const secret = process.env.DUBAN_WEBHOOK_SECRET;
if (!secret) throw new Error('set DUBAN_WEBHOOK_SECRET');
const toleranceSeconds = 300;
const seen = new Set(); // a real receiver keeps this in its database, with the notice it stored

/** Checks `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, in constant time. */
function verify(header, body) {
  const parts = Object.fromEntries(String(header ?? '').split(',').map((p) => p.split('=', 2)));
  const timestamp = Number(parts.t);
  if (!Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > toleranceSeconds || !parts.v1) return false;
  const expected = crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

const server = http.createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    if (request.method !== 'POST' || !verify(request.headers['duban-signature'], body)) {
      response.writeHead(401).end('bad signature');
      return;
    }
    const delivery = String(request.headers['duban-delivery']);
    const duplicate = seen.has(delivery);
    seen.add(delivery);
    if (!duplicate) {
      const notice = JSON.parse(body);
      console.log(JSON.stringify({ delivery, kind: notice.kind, caseId: notice.caseId, subject: notice.subject }));
    }
    response.writeHead(204).end();
  });
});
server.listen(Number(process.env.PORT ?? 8787), '127.0.0.1', () => console.error(`listening on ${server.address().port}`));
