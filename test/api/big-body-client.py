"""POSTs a JSON body of SIZE bytes to URL the way ordinary clients do (urllib:
the whole body is written before the answer is read) and prints one JSON
line: {"status", "body"} for an HTTP answer, {"error", "sent"} when the
connection failed (BrokenPipeError, ConnectionResetError, ...).

usage: big-body-client.py URL SIZE [chunked]
"""
import http.client
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

url, size = sys.argv[1], int(sys.argv[2])
chunked = len(sys.argv) > 3 and sys.argv[3] == "chunked"
head = b'{"language":"python","files":[{"path":"main.py","content":"'
tail = b'"}]}'
filler = size - len(head) - len(tail)
sent = 0


def chunks():
    global sent
    yield head
    block = b"x" * 65536
    left = filler
    while left > 0:
        piece = block[: min(left, len(block))]
        left -= len(piece)
        sent += len(piece)
        yield piece
    yield tail


headers = {"Content-Type": "application/json"}
if chunked:
    body = chunks()  # urllib sends an iterable without a length chunked
    headers["Transfer-Encoding"] = "chunked"
else:
    body = b"".join(chunks())
    headers["Content-Length"] = str(len(body))
request = urllib.request.Request(url, data=body, headers=headers, method="POST")
try:
    with urllib.request.urlopen(request, timeout=60) as response:
        print(json.dumps({"status": response.status, "body": response.read().decode()}))
except urllib.error.HTTPError as error:
    print(json.dumps({"status": error.code, "body": error.read().decode()}))
except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    print(json.dumps({"error": type(reason).__name__, "message": str(reason), "sent": sent}))
