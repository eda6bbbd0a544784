#!/usr/bin/python3
"""Smoke test of a broker with pika (Debian's python3-pika), driven by
test/integration/other-clients.test.ts.

Usage: pika_smoke.py MODE URL QUEUE [COUNT]
  roundtrip  declare QUEUE, publish COUNT messages with confirms (mandatory), consume and ack
             them, check an unroutable mandatory publish is returned, delete QUEUE
  publish    declare QUEUE and publish COUNT messages with confirms (for another client to read)
  consume    consume COUNT messages from QUEUE and ack them

Prints one JSON object on stdout; exits non-zero (with the reason on stderr) on any failure.
"""
import json
import sys

import pika
from pika.exceptions import UnroutableError


def props(i):
    return pika.BasicProperties(
        content_type='text/plain', delivery_mode=2, priority=3, message_id='pika-%d' % i,
        correlation_id='corr-%d' % i, headers={'i': i, 'client': 'pika'}, cluster_id='pika-cluster',
        app_id='pika_smoke')


def publish(ch, queue, count):
    ch.confirm_delivery()  # basic_publish now raises if the broker nacks or returns
    for i in range(count):
        ch.basic_publish(exchange='', routing_key=queue, body=('pika message %d' % i).encode(),
                         properties=props(i), mandatory=True)


def consume(ch, queue, count):
    got = []
    for method, properties, body in ch.consume(queue, inactivity_timeout=5):
        if method is None:
            break
        got.append({'body': body.decode(), 'redelivered': method.redelivered,
                    'message_id': properties.message_id, 'headers': properties.headers})
        ch.basic_ack(method.delivery_tag)
        if len(got) == count:
            break
    ch.cancel()
    return got


def main():
    mode, url, queue = sys.argv[1], sys.argv[2], sys.argv[3]
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    product = conn._impl.server_properties.get('product')  # pika may leave longstr as bytes
    result = {'mode': mode, 'server_product': product.decode() if isinstance(product, bytes) else product}
    if mode in ('roundtrip', 'publish'):
        ok = ch.queue_declare(queue=queue, durable=False, auto_delete=False)
        result['declared'] = ok.method.queue
        publish(ch, queue, count)
    if mode == 'roundtrip':
        try:
            ch.basic_publish(exchange='amq.direct', routing_key=queue + '-nowhere', body=b'x', mandatory=True)
            result['unroutable'] = 'accepted'
        except UnroutableError:
            result['unroutable'] = 'returned'
    if mode in ('roundtrip', 'consume'):
        result['received'] = consume(ch, queue, count)
        result['left'] = ch.queue_declare(queue=queue, passive=True).method.message_count
    if mode == 'roundtrip':
        ch.queue_delete(queue=queue)
    conn.close()
    print(json.dumps(result))


if __name__ == '__main__':
    main()
