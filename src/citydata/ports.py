"""Local TCP port probes for the services the platform starts (Airflow, PostgreSQL, the Spark cluster).

Standard library only: the CLI answers "port busy" before importing Spark or Airflow.
"""

from __future__ import annotations

import socket

ALL_INTERFACES = "0.0.0.0"
LOOPBACK = "127.0.0.1"


def port_is_free(port: int, host: str = ALL_INTERFACES) -> bool:
    """True when `port` can be bound on `host` now: nothing listens there (on any local address, by default).
    A port left in TIME_WAIT by a stopped server counts as free (SO_REUSEADDR), as the server itself would bind
    it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port nothing listens on at the moment, on `host`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
