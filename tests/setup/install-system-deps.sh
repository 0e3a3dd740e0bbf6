#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, when they are missing:
#   chromium           the browser tests drive Debian's chromium through playwright-core
#                      (never `npx playwright install`: its browser download cannot work here)
#   zookeeper          a real ZooKeeper 3.8 for the registry suite (run with java, no systemd)
#   clickhouse-server  a real ClickHouse server (18.16 in Debian 12) for the views suite
#   clickhouse-client    and its client, used to read rows back in the end-to-end test
#   librdkafka-dev gcc the Kafka-protocol broker: librdkafka's mock cluster in a small C
#                      helper (tests/services/kafka-mock.c) compiled on first use
#   python3-protobuf   the Python RPC client that proves the wire format is language-neutral
#   redis-server redis-tools  Redis 7: the KV's instances (started by agents) and redis-cli --cluster in its bench
# Needs root (or sudo) only when something is missing. Services are never started here:
# the tests start their own on free loopback ports and stop them.
set -euo pipefail

wanted=(chromium zookeeper clickhouse-server clickhouse-client librdkafka-dev gcc libc6-dev python3-protobuf redis-server redis-tools)
missing=()
for pkg in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "installing Debian packages for the tests: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "msec tests: need root to apt-get install ${missing[*]} (or install them yourself and run again)" >&2
    exit 1
  fi
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# clickhouse-server's maintainer scripts would start a system server on the default ports:
# policy-rc.d refuses that for the length of the install (our tests run their own).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "installed: ${missing[*]}"
