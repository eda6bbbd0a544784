#!/usr/bin/python3
"""A realistic pika session for the fuzz seed corpus (run by test/fuzz/capture.ts through its
recording proxy). Usage: capture_pika.py URL PREFIX. Exits non-zero on any failure."""
import datetime
import decimal
import sys

import pika


def main():
    url, prefix = sys.argv[1], sys.argv[2]
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.basic_qos(prefetch_count=10)
    ex, q, dlx = prefix + '.pika.ex', prefix + '.pika.q', prefix + '.pika.dlx'
    ch.exchange_declare(exchange=dlx, exchange_type='fanout')
    ch.exchange_declare(exchange=ex, exchange_type='headers', arguments={'alternate-exchange': dlx})
    ch.queue_declare(queue=q, arguments={'x-max-length': 100, 'x-dead-letter-exchange': dlx,
                                         'x-message-ttl': 60000, 'x-queue-mode': 'default'})
    ch.queue_bind(queue=q, exchange=ex, routing_key='', arguments={'x-match': 'any', 'kind': 'order', 'n': 7})
    ch.confirm_delivery()
    headers = {'kind': 'order', 'n': 7, 'price': decimal.Decimal('12.50'), 'ok': True, 'list': [1, 'two', {'three': 3}],
               'nested': {'a': {'b': 'c'}}, 'when': datetime.datetime(2024, 1, 2, 3, 4, 5), 'big': 2 ** 40, 'neg': -12}
    for i in range(3):
        props = pika.BasicProperties(content_type='application/json', content_encoding='utf-8', headers=headers,
                                     delivery_mode=2, priority=i, correlation_id='c-%d' % i, reply_to='capture.replies',
                                     expiration='60000', message_id='m-%d' % i, timestamp=1700000000 + i, type='order.created',
                                     user_id='guest', app_id='capture_pika')
        ch.basic_publish(exchange=ex, routing_key='', body=('{"i": %d}' % i).encode(), properties=props, mandatory=True)
    method, _props, _body = ch.basic_get(q)
    ch.basic_nack(method.delivery_tag, requeue=True)
    method, _props, _body = ch.basic_get(q)
    ch.basic_reject(method.delivery_tag, requeue=True)
    got = 0
    for method, _props, _body in ch.consume(q, inactivity_timeout=2, arguments={'x-priority': 5}):
        if method is None:
            break
        ch.basic_ack(method.delivery_tag)
        got += 1
        if got == 3:
            break
    ch.cancel()
    tx = conn.channel()
    tx.tx_select()
    tx.basic_publish(exchange='', routing_key=q, body=b'in a transaction')
    tx.tx_rollback()
    tx.basic_publish(exchange='', routing_key=q, body=b'committed')
    tx.tx_commit()
    tx.close()
    ch.queue_unbind(queue=q, exchange=ex, routing_key='', arguments={'x-match': 'any', 'kind': 'order', 'n': 7})
    ch.queue_purge(q)
    ch.queue_delete(q)
    ch.exchange_delete(ex)
    ch.exchange_delete(dlx)
    conn.close()
    if got != 3:
        sys.exit('expected 3 messages, got %d' % got)


if __name__ == '__main__':
    main()
