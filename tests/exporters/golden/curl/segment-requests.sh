#!/usr/bin/env bash
# 5 requests captured by segment-inspector 0.0.0-test, sent again exactly as received
# (method, URL, headers, body). Run: bash segment-requests.sh

# 1: POST track-Order Completed (01KDX000000000000000000001)
curl -q -sS -g --path-as-is -X 'POST' 'https://hooks.example.com/segment/' -H 'Accept: */*' -H 'Authorization: Basic c2VnbWVudDo=' -H 'Cache-Control: no-cache' -H 'Content-Type: application/json' -H 'User-Agent: Segment.io/1.0' --data-raw $'{"type":"track","event":"Order Completed","userId":"user-1","anonymousId":"anon-1","messageId":"msg-1","timestamp":"2026-01-01T12:00:00.000Z","properties":{"revenue":19.99,"currency":"USD","note":"it\'s \\"quoted\\""},"context":{"ip":"203.0.113.9","library":{"name":"analytics.js"}}}'
# 2: POST identify (01KDX000000000000000000002)
curl -q -sS -g --path-as-is -X 'POST' 'https://hooks.example.com/segment/' -H 'Accept: */*' -H 'Authorization: Basic cGFydG5lci1rZXktMTIzOg==' -H 'Cache-Control: no-cache' -H 'Content-Type: application/json' -H 'User-Agent: Segment.io/1.0' -H 'X-Segment-Settings: eyJjdXN0b21TZXR0aW5nT25lIjoiY3VzdG9tIHNldHRpbmcgdmFsdWUifQ==' --data-raw $'{\x0a  "type": "identify",\x0a  "userId": "user-1",\x0a  "anonymousId": "anon-1",\x0a  "messageId": "msg-2",\x0a  "timestamp": "2026-01-01T12:00:01.000Z",\x0a  "traits": {\x0a    "email": "Peter@Initech.example",\x0a    "name": "Peter Gibbons"\x0a  }\x0a}'
# 3: POST batch-2 (01KDX000000000000000000003)
curl -q -sS -g --path-as-is -X 'POST' 'https://hooks.example.com/segment/' -H 'Accept: */*' -H 'Authorization: Basic c2VnbWVudDo=' -H 'Cache-Control: no-cache' -H 'Content-Type: application/json' -H 'User-Agent: Segment.io/1.0' --data-raw '[{"type":"page","userId":"user-1","anonymousId":"anon-1","messageId":"msg-3","timestamp":"2026-01-01T12:00:02.000Z","properties":{"revenue":19.99},"name":"Home"},{"type":"screen","userId":"user-1","anonymousId":"anon-1","messageId":"msg-4","timestamp":"2026-01-01T12:00:02.000Z","properties":{"revenue":19.99},"name":"Dashboard"}]'
# 4: POST request (01KDX000000000000000000004)
printf -- '{"type":"track","event":"Bad \000 bytes","x":"\377"}' | curl -q -sS -g --path-as-is -X 'POST' 'https://hooks.example.com/segment/' -H 'Accept: */*' -H 'Authorization: Basic c2VnbWVudDo=' -H 'Cache-Control: no-cache' -H 'Content-Type: application/json' -H 'User-Agent: Segment.io/1.0' --data-binary @-
# 5: GET request (01KDX000000000000000000005)
curl -q -sS -g --path-as-is -X 'GET' 'https://hooks.example.com/segment/health?verbose=1&name=a%20b' -H 'User-Agent: probe/1.0' -H 'Accept: */*' -H 'Content-Type:' --data-raw ''
