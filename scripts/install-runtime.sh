#!/usr/bin/env bash
# Installs what the containerd driver runs on, from Debian/Ubuntu packages: containerd (with its CRI
# plugin and ctr), runc, the CNI plugins (bridge, host-local, portmap, loopback), iptables, ip, and
# nft (the service proxy's rules).
# `make start` runs it with --optional (a machine that cannot have them gets simulated nodes);
# CI runs it through `make test`.
set -euo pipefail
optional=false
[ "${1:-}" = --optional ] && optional=true
cannot() {
  if $optional; then echo "note: $1; cubby will run simulated nodes" >&2; exit 0; fi
  echo "$1" >&2
  exit 1
}
missing() {
  command -v containerd >/dev/null || return 0
  command -v runc >/dev/null || return 0
  command -v iptables >/dev/null || return 0
  command -v ip >/dev/null || return 0
  command -v nft >/dev/null || return 0
  [ -x /usr/lib/cni/bridge ] || [ -x /opt/cni/bin/bridge ] || return 0
  return 1
}
missing || exit 0
if [ "$(uname -s)" != Linux ] || ! command -v apt-get >/dev/null; then
  cannot "the containerd driver needs Linux with apt-get (Debian/Ubuntu) to install it"
fi
if [ "$(id -u)" -ne 0 ]; then
  cannot "installing the container runtime needs root: sudo $0"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends containerd runc containernetworking-plugins iptables nftables iproute2 >/dev/null
# Cubby runs a containerd of each profile's own; the service this install just started is not needed
# (it was not there before, so nothing of the machine's own relied on it).
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl disable --now containerd >/dev/null 2>&1 || true
fi
