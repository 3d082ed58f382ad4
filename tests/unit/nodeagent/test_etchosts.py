"""A pod's /etc/hosts as the kubelet writes it (nodeagent/pods/etchosts.py)."""
from nodeagent.pods.etchosts import host_name_and_domain, mounts_own_hosts_file, pod_hosts_file


def pod(**spec):
    return {"metadata": {"name": "web-0", "namespace": "ns"}, "spec": spec}


def test_pod_ip_with_fqdn_and_hostname_then_aliases():
    text = pod_hosts_file(pod(hostname="dns-querier-1", subdomain="svc",
                              hostAliases=[{"ip": "1.2.3.4", "hostnames": ["foo.local", "bar.local"]}]),
                          ["10.88.0.5"], "cluster.local")
    lines = text.splitlines()
    assert lines[0] == "# Kubernetes-managed hosts file."
    assert "127.0.0.1\tlocalhost" in lines and "::1\tlocalhost ip6-localhost ip6-loopback" in lines
    assert "10.88.0.5\tdns-querier-1.svc.ns.svc.cluster.local\tdns-querier-1" in lines
    assert lines[-3:] == ["", "# Entries added by HostAliases.", "1.2.3.4\tfoo.local\tbar.local"]


def test_without_subdomain_the_pod_name_is_the_host_name():
    assert "10.88.0.6\tweb-0\n" in pod_hosts_file(pod(), ["10.88.0.6"], "cluster.local")
    assert "Entries added by HostAliases" not in pod_hosts_file(pod(), ["10.88.0.6"], "cluster.local")
    assert host_name_and_domain({"metadata": {"name": "a" * 62 + "-b", "namespace": "n"}}, "z") == ("a" * 62, "")


def test_host_network_pods_get_the_hosts_file_of_the_node():
    text = pod_hosts_file(pod(hostNetwork=True, hostAliases=[{"ip": "1.2.3.4", "hostnames": ["x"]}]),
                          ["192.168.1.2"], "cluster.local", host_file="127.0.0.1 localhost\n10.0.0.1 node")
    assert text.startswith("# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n10.0.0.1 node\n")
    assert "# Kubernetes-managed hosts file.\n" not in text
    assert text.endswith("1.2.3.4\tx\n")


def test_a_container_may_mount_its_own():
    assert mounts_own_hosts_file({"volumeMounts": [{"name": "h", "mountPath": "/etc/hosts"}]})
    assert not mounts_own_hosts_file({"volumeMounts": [{"name": "h", "mountPath": "/etc"}]})
