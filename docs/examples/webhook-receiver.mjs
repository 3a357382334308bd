// A receiver of duban's webhooks, with nothing but Node.js (18 or later):
//   DUBAN_WEBHOOK_SECRET=<the subscriber's secret> PORT=8787 node docs/examples/webhook-receiver.mjs
// It checks each notice's signature and age over the exact bytes received, answers 2xx once it has
// taken the notice, and takes a delivery it has seen before (a resend after a failure on either
// side) only once, by the delivery id inside the signed body.
import crypto from 'node:crypto';
import http from 'node:http';

const secret = process.env.DUBAN_WEBHOOK_SECRET;
if (!secret) throw new Error('set DUBAN_WEBHOOK_SECRET');
const toleranceSeconds = 300;
const maxBodyBytes = 256 * 1024; // a notice is a few kilobytes
const seen = new Set(); // a real receiver keeps this in its database, with the notice it stored

/** Checks `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` over the raw body, in constant time. */
function verify(header, body) {
  const parts = Object.fromEntries(String(header ?? '').split(',').map((p) => p.split('=', 2)));
  const timestamp = Number(parts.t);
  if (!Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > toleranceSeconds || !parts.v1) return false;
  const expected = crypto.createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

const server = http.createServer((request, response) => {
  if (request.method !== 'POST') {
    response.writeHead(405, { allow: 'POST' }).end();
    return;
  }
  const chunks = [];
  let size = 0;
  request.on('data', (chunk) => {
    size += chunk.length;
    if (size > maxBodyBytes) {
      response.writeHead(413).end('too large');
      request.destroy();
      return;
    }
    chunks.push(chunk);
  });
  request.on('end', () => {
    const body = Buffer.concat(chunks);
    if (!verify(request.headers['duban-signature'], body)) {
      response.writeHead(401).end('bad signature');
      return;
    }
    const notice = JSON.parse(body.toString('utf8'));
    // The id to deduplicate by is the one in the signed body: a header could be changed in transit.
    const duplicate = seen.has(notice.delivery);
    seen.add(notice.delivery);
    if (!duplicate) console.log(JSON.stringify({ delivery: notice.delivery, kind: notice.kind, caseId: notice.caseId, subject: notice.subject }));
    response.writeHead(204).end();
  });
});
server.listen(Number(process.env.PORT ?? 8787), '127.0.0.1', () => console.error(`listening on ${server.address().port}`));
