"""The standalone cluster's sizing, settings and port checks (citydata.lakehouse.cluster), without starting a JVM."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from citydata.lakehouse import cluster
from citydata.lakehouse.cluster import ClusterConfig, ClusterPortError

GIB = 1024 ** 3


def test_workers_share_the_cores_and_a_quarter_of_the_memory() -> None:
    assert cluster.size_workers(2, cores=2, memory_bytes=24 * GIB) == (1, 3072)  # this machine
    assert cluster.size_workers(2, cores=16, memory_bytes=128 * GIB) == (8, 8192)  # capped at 8 GiB
    assert cluster.size_workers(2, cores=1, memory_bytes=4 * GIB) == (1, 1024)  # at least 1 core, 1 GiB
    assert cluster.size_workers(3, cores=8, memory_bytes=48 * GIB) == (2, 4096)


def test_environment_overrides_the_machine(tmp_path: Path) -> None:
    config = ClusterConfig.from_env(tmp_path, env={}, cores=2, memory_bytes=24 * GIB)
    assert (config.workers, config.worker_cores, config.worker_memory_mb) == (2, 1, 3072)
    assert config.master_url == "spark://127.0.0.1:7077" and config.ui_url == "http://127.0.0.1:8180"
    assert config.folder == tmp_path.resolve() / ".cluster"
    env = {"CITYDATA_CLUSTER_WORKERS": "3", "CITYDATA_CLUSTER_WORKER_CORES": "2",
           "CITYDATA_CLUSTER_WORKER_MEMORY": "2g", "CITYDATA_CLUSTER_MASTER_PORT": "17077",
           "CITYDATA_CLUSTER_UI_PORT": "18180"}
    config = ClusterConfig.from_env(tmp_path, env=env, cores=2, memory_bytes=24 * GIB)
    assert (config.workers, config.worker_cores, config.worker_memory_mb) == (3, 2, 2048)
    assert config.daemons() == ["master", "worker-1", "worker-2", "worker-3"]
    assert sorted(config.ports()) == [17077, 17078, 17079, 17080, 18180, 18181, 18182, 18183]


@pytest.mark.parametrize(("text", "mib"), [("3g", 3072), ("3072m", 3072), ("1536", 1536), (" 2G ", 2048)])
def test_memory_sizes(text: str, mib: int) -> None:
    assert cluster.parse_memory_mb(text, "X") == mib


@pytest.mark.parametrize(("name", "value"), [("CITYDATA_CLUSTER_WORKER_MEMORY", "lots"),
                                             ("CITYDATA_CLUSTER_WORKER_MEMORY", "100m"),
                                             ("CITYDATA_CLUSTER_WORKERS", "0"),
                                             ("CITYDATA_CLUSTER_MASTER_PORT", "80")])
def test_a_bad_setting_names_itself(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"{name}='{value}'.*Fix"):
        ClusterConfig.from_env(tmp_path, env={name: value})


def test_ports_taken_twice_are_refused(tmp_path: Path) -> None:
    config = ClusterConfig(tmp_path, workers=2, master_port=8180, ui_port=8181)
    with pytest.raises(ClusterPortError, match="port 8181 would serve both"):
        config.ports()


def test_the_platform_s_own_ports_are_refused(tmp_path: Path) -> None:
    config = ClusterConfig(tmp_path, ui_port=8078)  # worker 2's web UI would take Airflow's 8080
    with pytest.raises(ClusterPortError, match=r"port 8080, wanted for Spark worker 2's web UI, is the port of the "
                                               r"Airflow UI"):
        cluster.check_ports(config)
    config = ClusterConfig(tmp_path, master_port=9998)  # worker 2 would take the SQL endpoint's 10000
    with pytest.raises(ClusterPortError, match="port 10000, wanted for Spark worker 2, is the port of the SQL end"):
        cluster.check_ports(config)


def test_a_busy_port_is_refused_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        busy = listener.getsockname()[1]
        config = ClusterConfig(tmp_path, master_port=busy + 100 if busy < 60000 else busy - 100, ui_port=busy)
        if not all(cluster.port_is_free(p) for p in config.ports() if p != busy):
            pytest.skip("another port of the probe happens to be in use")
        with pytest.raises(ClusterPortError, match=f"port {busy}, wanted for the Spark master's web UI, is in use"):
            cluster.start(config, timeout=5)
    assert not (tmp_path / ".cluster").exists()  # refused before any folder or process
    assert cluster.check_ports(config) == sorted(config.ports())  # free again once the listener closed
