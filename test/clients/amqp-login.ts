// Connects once with amqplib and prints the outcome as one JSON line: {"ok":true} or
// {"ok":false,"code":403,"message":"..."}. Run inside a test network namespace by auth.test.ts.
import amqp from 'amqplib';

const url = process.argv[2];
if (url === undefined) throw new Error('usage: amqp-login.ts URL');
try {
  const c = await amqp.connect(url);
  await c.close();
  console.log(JSON.stringify({ ok: true }));
} catch (err) {
  const e = err as { code?: number | string; message: string };
  // amqplib sets no numeric code on a refused handshake; its message carries "403 (ACCESS-REFUSED)".
  const fromText = /\b(\d{3}) \(/.exec(e.message)?.[1];
  const code = typeof e.code === 'number' ? e.code : fromText !== undefined ? Number(fromText) : e.code ?? null;
  console.log(JSON.stringify({ ok: false, code, message: e.message }));
}
