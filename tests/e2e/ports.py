"""Free loopback ports for the processes the tests start."""
import random
import socket


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port_run(count):
    """The first of `count` consecutive free ports below the kernel's ephemeral range, for processes that take
    several ports at once (`--control-planes`, an etcd cluster's members): an ephemeral port (what free_port()
    returns) has neighbours that any outgoing connection may take between the check and the bind, and two
    free_port() calls may return the same port."""
    while True:
        first = random.randrange(20000, 32000 - count)
        try:
            held = []
            for port in range(first, first + count):
                s = socket.socket()
                held.append(s)
                s.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
