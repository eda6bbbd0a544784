#!/usr/bin/env bash
# Smoke test of a broker with librabbitmq's amqp-tools (Debian package amqp-tools), driven by
# test/integration/other-clients.test.ts.
#
# Usage: amqp_tools_smoke.sh URL QUEUE
# Declares QUEUE, publishes three messages (content type + a header), then reads two with
# amqp-get and one with amqp-consume (which acks). Prints one "key: value" line per result.
# amqp-publish has no publisher confirms; the declare → publish → get sequence runs over
# separate connections, so the caller checks the results rather than this script.
set -euo pipefail
url=${1:?url}; queue=${2:?queue}

declared=$(amqp-declare-queue --url="$url" -q "$queue")
echo "declared: $declared"
for i in 1 2 3; do
  amqp-publish --url="$url" -r "$queue" -C text/plain -H "origin: amqp-tools" -b "tools message $i"
done
# amqp-get returns an error status when the queue is empty; retry briefly.
for n in 1 2; do
  for attempt in $(seq 1 50); do
    if body=$(amqp-get --url="$url" -q "$queue" 2>/dev/null); then echo "get: $body"; break; fi
    sleep 0.1
  done
done
echo "consume: $(amqp-consume --url="$url" -q "$queue" -c 1 cat)"
