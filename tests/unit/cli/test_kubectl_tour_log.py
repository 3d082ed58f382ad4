"""The -v=8 stderr reader the kubectl tour uses, on hand-written logs of both layouts."""
from tests.integration.kubectl_tour_log import Exchange, split_stderr

OLD = """I1125 19:49:41.892541    5828 round_trippers.go:463] GET https://127.0.0.1:1/api/v1/namespaces/a/configmaps/x
I1125 19:49:41.892560    5828 round_trippers.go:469] Request Headers:
I1125 19:49:41.892570    5828 round_trippers.go:473]     Accept: application/json
I1125 19:49:41.911420    5828 round_trippers.go:574] Response Status: 404 Not Found in 18 milliseconds
I1125 19:49:41.911517    5828 request.go:1188] Response Body: {"kind":"Status"}
00000000  0a 03 32 2e 30 12 15 0a  0a 4b 75 62 65 72 6e 65  |..2.0....Kuberne|
W1125 19:49:41.911600    5828 prune.go:71] Deprecated: something
Error from server (NotFound): configmaps "x" not found
"""
NEW = """I1125 19:48:44.844650    3501 round_trippers.go:527] "Request" verb="PATCH" url="https://127.0.0.1:1/api/v1/x?dryRun=All" headers=<
\tContent-Type: application/strategic-merge-patch+json
 >
I1125 19:48:44.847781    3501 round_trippers.go:632] "Response" status="406 Not Acceptable" headers=<
\tContent-Type: application/json
 >
Warning: a server warning
"""


def test_old_layout_pairs_request_and_response_and_keeps_user_lines():
    exchanges, visible = split_stderr(OLD)
    assert exchanges == [Exchange("GET", "/api/v1/namespaces/a/configmaps/x", 404)]
    assert visible == ["W] Deprecated: something", 'Error from server (NotFound): configmaps "x" not found']


def test_new_layout_with_multiline_headers():
    exchanges, visible = split_stderr(NEW)
    assert exchanges == [Exchange("PATCH", "/api/v1/x?dryRun=All", 406)]
    assert visible == ["Warning: a server warning"]
