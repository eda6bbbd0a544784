// Client byte sequences the connection target replays around each fuzz input, built with the test
// suite's independent codec (test/helpers/wire.ts), not Warren's.
import { M, PROTOCOL_HEADER, Writer, bodyFrame, headerFrame, methodFrame } from '../helpers/wire.js';

export const COMPANION_QUEUE = 'fuzz.companion';
export const COMPANION_BODY = Buffer.from('companion still works');

/** The capabilities amqplib announces, so capability-dependent paths (nacks, blocked, cancel notify) run. */
const CAPABILITIES = {
  publisher_confirms: true, exchange_exchange_bindings: true, 'basic.nack': true, consumer_cancel_notify: true,
  'connection.blocked': true, authentication_failure_close: true,
};

/** Protocol header, start-ok (PLAIN guest/guest), tune-ok (server defaults, no heartbeat), open "/". */
export const CLIENT_HANDSHAKE: Buffer = Buffer.concat([
  PROTOCOL_HEADER,
  methodFrame(0, M.connectionStartOk, new Writer()
    .table({ product: 'warren-fuzz', capabilities: CAPABILITIES })
    .shortstr('PLAIN').longstr('\0guest\0guest').shortstr('en_US').build()),
  methodFrame(0, M.connectionTuneOk, new Writer().short(2047).long(131072).short(0).build()),
  methodFrame(0, M.connectionOpen, new Writer().shortstr('/').shortstr('').bits(false).build()),
]);

/** Handshake, channel 1, and an exclusive queue only the companion may touch. */
export function companionOpen(): Buffer {
  return Buffer.concat([
    CLIENT_HANDSHAKE,
    methodFrame(1, M.channelOpen, new Writer().shortstr('').build()),
    methodFrame(1, M.queueDeclare, new Writer().short(0).shortstr(COMPANION_QUEUE).bits(false, false, true, false, false).table({}).build()),
  ]);
}

/** Publish COMPANION_BODY to the companion queue, then basic.get it (no-ack). */
export function companionRoundTrip(): Buffer {
  return Buffer.concat([
    methodFrame(1, M.basicPublish, new Writer().short(0).shortstr('').shortstr(COMPANION_QUEUE).bits(false, false).build()),
    headerFrame(1, COMPANION_BODY.length),
    bodyFrame(1, COMPANION_BODY),
    methodFrame(1, M.basicGet, new Writer().short(0).shortstr(COMPANION_QUEUE).bits(true).build()),
  ]);
}
