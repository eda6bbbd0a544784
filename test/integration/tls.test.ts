// AMQPS (TLS). Warren only: the reference RabbitMQ here has no TLS listener.
//
// A throwaway self-signed certificate (CN=localhost, SAN localhost + 127.0.0.1) is made with
// the openssl CLI in a temp dir; Warren is started with it and `amqpsPort: 0`, and reports the
// port it bound as `amqpsPort` on the TestBroker.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { channel, connect, eventually, uniq } from '../helpers/amqp.js';
import { skipOnCluster } from '../helpers/target.js';

type TlsBroker = TestBroker & { readonly amqpsPort?: number };

const dir = mkdtempSync(join(tmpdir(), 'warren-tls-'));
const certFile = join(dir, 'cert.pem');
const keyFile = join(dir, 'key.pem');
let opensslError: string | undefined;
try {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'pipe' });
} catch (e) { opensslError = (e as Error).message; }

let broker: TlsBroker;
before(async () => { broker = await startBroker(opensslError ? {} : { tls: { certFile, keyFile }, amqpsPort: 0 }); });
after(async () => { await broker.stop(); rmSync(dir, { recursive: true, force: true }); });

/** Skips the test unless we are testing Warren with TLS up; returns the TLS port. */
function tlsPort(t: { skip: (msg: string) => void }): number | undefined {
  if (!broker.isWarren) { t.skip('the reference RabbitMQ has no TLS listener'); return undefined; }
  if (skipOnCluster(t, 'TLS (`warren cluster` starts its frontends and haproxy without a certificate)')) return undefined;
  if (opensslError) { t.skip(`openssl unavailable: ${opensslError}`); return undefined; }
  assert.equal(typeof broker.amqpsPort, 'number', 'TestBroker.amqpsPort must be set when TLS is configured');
  return broker.amqpsPort;
}

const amqpsUrl = (port: number): string => `amqps://guest:guest@127.0.0.1:${port}`;

describe('amqps', () => {
  test('connect with the CA, verify the certificate, publish and get', async (t) => {
    const port = tlsPort(t);
    if (port === undefined) return;
    const conn = await connect(amqpsUrl(port), {}, { ca: [readFileSync(certFile)], servername: 'localhost' });
    try {
      const ch = await channel(conn);
      const q = (await ch.assertQueue(uniq('tls'), { exclusive: true })).queue;
      ch.sendToQueue(q, Buffer.from('over tls'));
      const m = await eventually(async () => (await ch.get(q, { noAck: true })) || undefined);
      assert.equal(m.content.toString(), 'over tls');
    } finally { await conn.close(); }
  });

  test('rejectUnauthorized: false also connects', async (t) => {
    const port = tlsPort(t);
    if (port === undefined) return;
    const conn = await connect(amqpsUrl(port), {}, { rejectUnauthorized: false });
    assert.equal(typeof (conn.connection.serverProperties as unknown as Record<string, unknown>)['product'], 'string');
    await conn.close();
  });

  test('a client that does not trust the self-signed certificate fails the handshake', async (t) => {
    const port = tlsPort(t);
    if (port === undefined) return;
    await assert.rejects(connect(amqpsUrl(port)), /self[- ]signed|certificate/i);
  });

  test('the TLS port speaks AMQP inside TLS: protocol header answered after the handshake', async (t) => {
    const port = tlsPort(t);
    if (port === undefined) return;
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port, ca: [readFileSync(certFile)], servername: 'localhost' }, () => {
        s.write(Buffer.from('AMQP\x00\x00\x09\x00', 'latin1'));
      });
      let got = Buffer.alloc(0);
      s.on('data', (d: Buffer) => { got = Buffer.concat([got, d]); if (got.length >= 8) { s.destroy(); resolve(got.subarray(0, 8)); } });
      s.on('error', reject);
    });
    assert.deepEqual(reply, Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'));
  });
});
