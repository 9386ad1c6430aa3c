"""The curated examples (examples/*/README.md), run exactly as their READMEs say: every ```sh block, in
order, in one shell at the repository's root, against a cluster on the containerd driver. The only
liberty taken is which profile `cubby` acts on (the test's own, not the default one)."""
import os
import re
import subprocess
import sys
import time

import pytest

from conftest import BIN, ROOT
from realpods import node  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="real pods need Linux and root")


def commands(example):
    """The shell blocks of an example's README, in order."""
    text = (ROOT / "examples" / example / "README.md").read_text()
    return "\n".join(re.findall(r"```sh\n(.*?)```", text, re.S))


def follow(node, example, timeout=300):
    script = f'set -euo pipefail\ncubby() {{ "{BIN}" "$@" -p "{node.name}"; }}\n' + commands(example)
    started = time.monotonic()
    r = subprocess.run(["bash", "-c", script], cwd=ROOT, env=node.env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"examples/{example} failed after {time.monotonic() - started:.0f}s:\n{r.stderr}\n{r.stdout}"
    return r.stdout


def test_every_example_has_a_test():
    examples = sorted(d.name for d in (ROOT / "examples").iterdir() if d.is_dir())
    tested = sorted(name.removeprefix("test_").replace("_", "-") for name in globals() if name.startswith("test_")
                    and name not in ("test_every_example_has_a_test",))
    assert examples == tested


def test_hello_web(node):
    out = follow(node, "hello-web")
    assert re.search(r"^http://\d+\.\d+\.\d+\.\d+:3\d{4}$", out, re.M)
    assert re.search(r"^Hello from hello-web-[a-z0-9]+-[a-z0-9]{5}$", out, re.M)
    counts = re.findall(r"^\s+(\d+) Hello from (hello-web-\S+)$", out, re.M)
    assert sum(int(n) for n, _ in counts) == 9 and len(counts) >= 2, out
    assert not node.get("deployments")["items"]


def test_two_tier(node):
    out = follow(node, "two-tier")
    answers = re.findall(r"^frontend (frontend-\S+) asked http://quotes/ and got: Simple things should be simple\. \(served by (quotes-\S+)\)$",
                         out, re.M)
    assert len(answers) == 4, out
    assert re.search(r"^kube-dns\s+ClusterIP\s+10\.\d+\.0\.10\s+<none>\s+53/UDP,53/TCP,9153/TCP", out, re.M), out


def test_jobs(node):
    out = follow(node, "jobs")
    assert "there are 1229 primes below 10000" in out
    assert re.search(r"the time was \d\d:\d\d:\d\d UTC", out)
