from kubeclient.client import ResourceExpired, _error_from


def test_status_errors_keep_code_reason_and_body():
    e = _error_from(409, b'{"kind":"Status","reason":"AlreadyExists","message":"pods \\"p\\" already exists","code":409}')
    assert e.code == 409 and e.already_exists and e.message == 'pods "p" already exists'
    assert isinstance(_error_from(410, b'{"reason":"Expired"}'), ResourceExpired)
    plain = _error_from(502, b"<html>bad gateway</html>")
    assert plain.reason == "InternalError" and "bad gateway" in plain.message


def test_only_a_429_that_says_when_is_retried():
    from kubeclient.client import retry_after
    assert retry_after(429, "1") == 1.0 and retry_after(429, "600") == 60.0
    assert retry_after(429, "0") is None          # eviction blocked by a disruption budget
    assert retry_after(429, None) is None and retry_after(429, "soon") is None
    assert retry_after(503, "1") is None and retry_after(200, "1") is None
