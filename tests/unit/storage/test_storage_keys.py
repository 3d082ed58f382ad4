from apiserver.storage.keys import prefix_end, resource_prefix


def test_prefix_end_bounds_exactly_the_prefix():
    end = prefix_end("/registry/pods/")
    assert "/registry/pods/" < "/registry/pods/zzz\U0010fffe" < end
    assert not ("/registry/pods/" <= "/registry/podsx" < end)
    assert prefix_end("") > "/anything"


def test_resource_prefix():
    assert resource_prefix("/registry/pods/ns/name") == "/registry/pods/"
    assert resource_prefix("/registry/pods/") == "/registry/pods/"
    assert resource_prefix("/registry/namespaces/default") == "/registry/namespaces/"
    assert resource_prefix("/registry/pods") is None
    assert resource_prefix("/registry/") is None
    assert resource_prefix("registry/pods/x") is None
