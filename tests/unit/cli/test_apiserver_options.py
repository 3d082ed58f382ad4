"""kube-apiserver-named flags parse into ServerOptions; bad values are refused with a reason."""
import argparse

import pytest

from apiserver.assembly.options import first_service_ip, parse_args, parse_duration, parse_port_range


def test_defaults():
    o = parse_args(["--data-dir", "/tmp/x"])
    assert (o.secure_port, o.bind_address, o.service_cluster_ip_range) == (6443, "127.0.0.1", "10.96.0.0/12")
    assert o.first_service_ip == "10.96.0.1"
    assert o.service_node_port_range == (30000, 32767)
    assert o.authorization_mode == ["Node", "RBAC"]     # secure by default, as kubeadm
    assert o.enable_admission_plugins == [] and o.disable_admission_plugins == []
    assert o.etcd_servers == [] and o.etcd_compaction_interval == 300


def test_flags():
    o = parse_args(["--data-dir", "d", "--secure-port", "0", "--etcd-servers", "http://a:1,http://b:2",
                    "--etcd-compaction-interval", "1m30s", "--enable-admission-plugins", "A,B",
                    "--disable-admission-plugins", "B", "--advertise-address", "192.0.2.1",
                    "--service-cluster-ip-range", "10.0.0.0/24", "--authorization-mode", "RBAC,AlwaysAllow"])
    assert o.etcd_servers == ["http://a:1", "http://b:2"]
    assert o.etcd_compaction_interval == 90
    assert (o.enable_admission_plugins, o.disable_admission_plugins) == (["A", "B"], ["B"])
    assert o.apiserver_ip == "192.0.2.1"
    assert o.first_service_ip == "10.0.0.1"
    assert o.authorization_mode == ["RBAC", "AlwaysAllow"]


@pytest.mark.parametrize("text,seconds", [("5m", 300), ("10s", 10), ("1h", 3600), ("0", 0), ("250ms", 0.25)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["5x", "m5", "", "1h 2m"])
def test_parse_duration_rejects(bad):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration(bad)


def test_port_range():
    assert parse_port_range("30000-32767") == (30000, 32767)
    assert parse_port_range("30000+100") == (30000, 30100)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_port_range("200-100")


def test_bad_cidr_and_ip_exit():
    with pytest.raises(SystemExit):
        parse_args(["--data-dir", "d", "--service-cluster-ip-range", "10.0.0.1/12"])
    with pytest.raises(SystemExit):
        parse_args(["--data-dir", "d", "--bind-address", "nope"])
    assert first_service_ip("fd00::/108") == "fd00::1"


def test_admission_names_follow_upstream_semantics():
    from apiserver.assembly.server import admission_plugin_names
    assert admission_plugin_names([], [], ("A", "B")) == ["A", "B"]
    assert admission_plugin_names(["C", "A"], ["B"], ("A", "B")) == ["A", "C"]


def test_connection_limits_default_to_kube_apiservers_and_parse():
    from apiserver.assembly.options import parse_args

    d = parse_args(["--data-dir", "/tmp/x"]).connection_limits
    assert (d.tls_handshake_timeout, d.request_header_timeout, d.idle_timeout) == (32.0, 32.0, 90.0)
    o = parse_args(["--data-dir", "/tmp/x", "--tls-handshake-timeout", "5s", "--request-header-timeout", "2s",
                    "--idle-connection-timeout", "1m", "--max-connections", "30",
                    "--max-connections-per-client", "20"]).connection_limits
    assert (o.tls_handshake_timeout, o.request_header_timeout, o.idle_timeout) == (5.0, 2.0, 60.0)
    assert (o.max_connections, o.max_connections_per_client) == (30, 20)


def test_workers_default_to_one_per_core():
    from apiserver.assembly.options import cores_available

    assert parse_args(["--data-dir", "d"]).workers == cores_available() >= 1
    assert parse_args(["--data-dir", "d", "--etcd-servers", "http://127.0.0.1:2379"]).workers == cores_available()
    assert parse_args(["--data-dir", "d", "--etcd-servers", "http://127.0.0.1:2379", "--workers", "0"]).workers \
        == cores_available()
    assert parse_args(["--data-dir", "d", "--workers", "1"]).workers == 1
    assert parse_args(["--data-dir", "d", "--workers", "3"]).workers == 3
    assert parse_args(["--data-dir", "d", "--workers", "0"]).workers == cores_available() >= 1


@pytest.mark.parametrize("bad", ["-1", "two"])
def test_bad_worker_counts_are_refused(bad, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--data-dir", "d", "--workers", bad])
    assert "invalid worker count" in capsys.readouterr().err


def test_service_account_max_token_expiration():
    from apiserver.assembly.options import parse_max_token_expiration
    assert parse_args(["--data-dir", "d"]).service_account_max_token_expiration == 0   # no cap
    assert parse_args(["--data-dir", "d", "--service-account-max-token-expiration", "24h"]) \
        .service_account_max_token_expiration == 86400
    assert parse_max_token_expiration("1h") == 3600 and parse_max_token_expiration("0") == 0
    for bad in ("59m", "10m", f"{2 ** 32 + 1}s"):   # kube-apiserver refuses to start: 1 hour to 2^32 seconds
        with pytest.raises(argparse.ArgumentTypeError, match="between 1 hour and 2\\^32 seconds"):
            parse_max_token_expiration(bad)
