#!/usr/bin/env python3
"""Services on real pods (Linux, root): the time from `kubectl create` of a Service to the first request
that succeeds through it, from a pod that asks for it by name (cluster DNS, then the proxy's rules) and
from this machine by its cluster IP (the proxy's rules alone).

Usage: python3 Benchmarks/service_bench.py [path/to/cubby]
It makes a profile of its own (Benchmarks/benchkit.py) and deletes it at the end. A client pod polls
`wget http://NAME` every 10 ms and touches a file on a hostPath volume when it gets an answer; the
file's modification time (the same clock as this script's) marks the success. Until the service exists
the pod's lookups end at the host's resolver, played by an NXDOMAIN-only server of the benchmark's own
on loopback (nothing leaves the machine); the host connects with 20 ms timeouts, so a SYN lost before
the rules exist costs a retry, not TCP's one-second retransmission.
"""
import json
import socket
import statistics
import time

from benchkit import containerd_profile, release_binary

BIN = release_binary(1, "cubby")
ROUNDS = 7


def main():
    with containerd_profile(BIN, "svcbench") as p:
        signals = p.home / "signals"
        signals.mkdir()
        p.kubectl("create", "deployment", "web", "--image=busybox:1.35", "--", "sh", "-c",
                  "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www")
        p.kubectl("rollout", "status", "deployment/web", "--timeout=120s")
        from_pod, from_host = [], []
        for i in range(ROUNDS):
            p.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"probe-{i}"},
                     "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
                              "volumes": [{"name": "signals", "hostPath": {"path": str(signals)}}],
                              "containers": [{"name": "probe", "image": "busybox:1.35",
                                              "volumeMounts": [{"name": "signals", "mountPath": "/signals"}],
                                              "command": ["sh", "-c", f"until wget -qO /dev/null http://svc-{i}; do usleep 10000; done; "
                                                                      f"touch /signals/done-{i}"]}]}})
            p.kubectl("wait", "--for=jsonpath={.status.phase}=Running", f"pod/probe-{i}", "--timeout=60s")
            time.sleep(0.5)
            service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"svc-{i}"},
                       "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}
            started = time.time()
            ip = p.kubectl("create", "-f", "-", "-o", "jsonpath={.spec.clusterIP}", input=json.dumps(service))
            while True:
                try:
                    socket.create_connection((ip, 80), timeout=0.02).close()
                    from_host.append(time.time() - started)
                    break
                except OSError:
                    time.sleep(0.005)
            done = signals / f"done-{i}"
            deadline = time.time() + 30
            while not done.exists() and time.time() < deadline:
                time.sleep(0.005)
            if not done.exists():
                raise RuntimeError(f"probe-{i} got no answer from svc-{i}: {p.kubectl('get', 'pod', f'probe-{i}', '-o', 'json')}")
            from_pod.append(done.stat().st_mtime_ns / 1e9 - started)
        fmt = lambda xs: f"median {statistics.median(xs) * 1000:.0f} ms, max {max(xs) * 1000:.0f} ms"
        print(f"service create -> first request ({ROUNDS} services, 1 ready pod behind each)")
        print(f"  from a pod, by name (DNS + rules): {fmt(from_pod)}")
        print(f"  from the host, by cluster IP (rules): {fmt(from_host)}")


if __name__ == "__main__":
    main()
