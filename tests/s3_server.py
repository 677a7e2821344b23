"""An S3 server on 127.0.0.1 for the object-store tests: moto's ThreadedMotoServer, in a child process.

In a child process, not a thread of the test's own: some delta-rs calls (`DeltaTable.is_deltatable`) hold the
GIL while they wait for the HTTP answer, so a server thread in the same interpreter never answers them (seen:
the listing timed out after 180 s). Bounded: the child dies with the test session (terminate, then kill).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from citydata.ports import free_port

_SERVE = (
    "import sys, time\n"
    "from moto.server import ThreadedMotoServer\n"
    "server = ThreadedMotoServer(ip_address='127.0.0.1', port=int(sys.argv[1]), verbose=False)\n"
    "server.start()\n"
    "print('ready', flush=True)\n"
    "time.sleep(3600)\n"  # an hour at most, even if the test session is killed before it stops the child
)


@dataclass(frozen=True)
class S3Server:
    """Where the server listens and the delta-rs storage options that reach it (moto accepts any keys)."""

    endpoint: str

    @property
    def storage_options(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "citydata-test",
                "AWS_SECRET_ACCESS_KEY": "citydata-test-secret", "AWS_ALLOW_HTTP": "true"}

    def create_bucket(self, name: str) -> None:
        import boto3

        boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1", aws_access_key_id="citydata-test",
                     aws_secret_access_key="citydata-test-secret").create_bucket(Bucket=name)


@contextmanager
def moto_s3_server() -> Iterator[S3Server]:
    """Start moto's S3 server on a free local port; stop it (and wait for it) on exit."""
    port = free_port()
    child = subprocess.Popen([sys.executable, "-c", _SERVE, str(port)], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # the child prints once the server listens, or exits (empty line)
        if line.strip() != "ready":
            raise RuntimeError(f"moto's S3 server did not start on 127.0.0.1:{port} (exit code {child.poll()})")
        yield S3Server(f"http://127.0.0.1:{port}")
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
