#!/usr/bin/env bash
# Debian packages berth needs at run time and for its tests (see DESIGN.md).
set -euo pipefail
pkgs=(runc crun conmon busybox-static iptables iproute2 containernetworking-plugins
      golang-github-containers-common tini g++ make python3 python3-docker
      docker-registry skopeo apache2-utils wrk docker-compose openssl procps passwd)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
fi
