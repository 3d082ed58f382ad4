from apiserver.machinery.managedfields import fieldpaths as fp


def test_fields_v1_round_trip_with_dot_for_members_with_children():
    paths = {
        ("f:metadata", "f:labels"), ("f:metadata", "f:labels", "f:app"),
        ("f:spec", "f:containers", 'k:{"name":"c"}'), ("f:spec", "f:containers", 'k:{"name":"c"}', "f:image"),
        ("f:spec", "f:replicas"),
    }
    trie = fp.to_fields_v1(paths)
    assert trie == {
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
        "f:spec": {"f:containers": {'k:{"name":"c"}': {".": {}, "f:image": {}}}, "f:replicas": {}},
    }
    assert fp.from_fields_v1(trie) == paths


def test_element_encodings_and_display():
    assert fp.key({"protocol": "TCP", "containerPort": 80}) == 'k:{"containerPort":80,"protocol":"TCP"}'
    assert fp.value("x") == 'v:"x"'
    path = ("f:spec", "f:containers", fp.key({"name": "c"}), "f:ports",
            fp.key({"containerPort": 80, "protocol": "TCP"}), "f:name")
    assert fp.path_string(path) == '.spec.containers[name="c"].ports[containerPort=80,protocol="TCP"].name'
    assert fp.path_string(("f:metadata", "f:finalizers", fp.value("a"))) == '.metadata.finalizers[="a"]'
