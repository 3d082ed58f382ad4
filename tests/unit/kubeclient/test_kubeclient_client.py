from kubeclient.client import ResourceExpired, _error_from


def test_status_errors_keep_code_reason_and_body():
    e = _error_from(409, b'{"kind":"Status","reason":"AlreadyExists","message":"pods \\"p\\" already exists","code":409}')
    assert e.code == 409 and e.already_exists and e.message == 'pods "p" already exists'
    assert isinstance(_error_from(410, b'{"reason":"Expired"}'), ResourceExpired)
    plain = _error_from(502, b"<html>bad gateway</html>")
    assert plain.reason == "InternalError" and "bad gateway" in plain.message
