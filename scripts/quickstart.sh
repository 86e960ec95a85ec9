#!/usr/bin/env bash
# Sets up berth on a fresh Debian 12 machine and runs a container, offline:
# installs the Debian packages, builds berth, starts berthd on /run/berth/berth.sock (unless one
# is already running), makes a busybox image from the host's static busybox and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
export npm_config_nodedir=/usr
bash scripts/install-deps.sh
npm ci --no-audit --no-fund
npm run build
SOCK=/run/berth/berth.sock
export BERTH_HOST=unix://$SOCK
if ! node bin/berth version >/dev/null 2>&1; then
  mkdir -p /var/log
  nohup node bin/berthd -H "unix://$SOCK" >/var/log/berthd.log 2>&1 &
  for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
  echo "berthd started (pid $!, log /var/log/berthd.log); stop it with: kill $!"
fi
if ! node bin/berth image inspect busybox >/dev/null 2>&1; then
  tar_file=$(bash scripts/busybox-rootfs.sh)
  node bin/berth import -c 'CMD ["sh"]' "$tar_file" busybox
  rm -rf "$(dirname "$tar_file")"
fi
node bin/berth run --rm busybox echo "hello from a berth container"
