#!/usr/bin/env bash
# Installs what the integration suite needs beyond npm: the non-JavaScript AMQP clients it drives
# (Debian's python3-pika and amqp-tools), iproute2 (network namespaces for the guest-from-remote
# test), g++ (the fuzz smoke test's loader shim) and haproxy (the load balancer in front of
# `npm run cluster`). Idempotent; does nothing when they are present or apt is unavailable.
set -u
need=()
/usr/bin/python3 -c 'import pika' >/dev/null 2>&1 || need+=(python3-pika)
command -v amqp-publish >/dev/null 2>&1 || need+=(amqp-tools)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
# The fuzz smoke test builds a small compatibility shim for Jazzer's prebuilt addon (test/fuzz/jazzer-compat.ts).
command -v g++ >/dev/null 2>&1 || need+=(g++)
# `warren cluster` (src/launcher) runs haproxy in front of the frontends; its tests need the binary.
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: cannot install ${need[*]} (not root or no apt); those tests will be skipped" >&2
  exit 0
fi
echo "install-test-deps: installing ${need[*]}" >&2
apt-get update -qq >/dev/null 2>&1 || true
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
  || echo "install-test-deps: apt-get install ${need[*]} failed; those tests will be skipped" >&2
exit 0
