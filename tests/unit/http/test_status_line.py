from apiserver.assembly.serving.status_line import reason_phrase


def test_reason_phrases_as_go_writes_them():
    assert reason_phrase(404) == b"Not Found"
    assert reason_phrase(409) == b"Conflict"
    assert reason_phrase(422) == b"Unprocessable Entity"
    assert reason_phrase(101) == b"Switching Protocols"
    assert reason_phrase(599) == b"status code 599"
