#!/usr/bin/env bash
# Checks a running server's streaming endpoints with curl, as a client would.
# Usage: scripts/test_streaming_endpoints.sh BASE_URL TOKEN [STUDIO_ID]
# Exits non-zero at the first missing event or unexpected status.
set -uo pipefail

BASE_URL="${1:?usage: $0 BASE_URL TOKEN [STUDIO_ID]}"
TOKEN="${2:?usage: $0 BASE_URL TOKEN [STUDIO_ID]}"
STUDIO_ID="${3:-dance_n_addiction}"
AUTH="Authorization: Token ${TOKEN}"
failures=0
body=$(mktemp)
trap 'rm -f "$body"' EXIT

pass() { printf 'ok    %s\n' "$1"; }
fail() { printf 'FAIL  %s\n' "$1"; failures=$((failures + 1)); }

expect_stream() {  # name, then curl arguments
  local name="$1"; shift
  local status
  status=$(curl -sS -N --max-time 300 -o "$body" -w '%{http_code}' "$@") || { fail "$name: curl failed"; return; }
  [ "$status" = 200 ] || { fail "$name: status $status, expected 200"; return; }
  for event in logs progress_bar complete; do
    grep -q "^event: ${event}$" "$body" || { fail "$name: no '${event}' event"; return; }
  done
  grep -q '^id: run-[0-9]*:1$' "$body" || { fail "$name: stream did not start at the run's first event"; return; }
  grep -q '"percentage": 100.0' "$body" || { fail "$name: progress never reached 100%"; return; }
  grep -q '"status": "succeeded"' "$body" || { fail "$name: run did not succeed"; return; }
  tail -n 3 "$body" | grep -q '^data: {"type": "complete"' || { fail "$name: stream did not end after 'complete'"; return; }
  pass "$name ($(grep -c '^event: ' "$body") events)"
}

expect_error() {  # name, status, code, then curl arguments
  local name="$1" want_status="$2" want_code="$3"; shift 3
  local status
  status=$(curl -sS --max-time 30 -o "$body" -w '%{http_code}' "$@") || { fail "$name: curl failed"; return; }
  [ "$status" = "$want_status" ] || { fail "$name: status $status, expected $want_status"; return; }
  grep -q "\"code\": \"${want_code}\"" "$body" || { fail "$name: body lacks code ${want_code}: $(head -c 200 "$body")"; return; }
  pass "$name ($status $want_code)"
}

expect_stream "POST refresh-workshops" -X POST "$BASE_URL/api/streaming/refresh-workshops" \
  -H "$AUTH" -H 'Content-Type: application/json' -d "{\"studio_id\": \"${STUDIO_ID}\"}"
expect_stream "GET process-studio" "$BASE_URL/api/streaming/process-studio?studio_id=${STUDIO_ID}" -H "$AUTH"
expect_stream "GET refresh-workshops" "$BASE_URL/api/streaming/refresh-workshops?studio_id=${STUDIO_ID}" -H "$AUTH"

expect_error "missing studio_id" 400 missing_studio_id -X POST "$BASE_URL/api/streaming/refresh-workshops" \
  -H "$AUTH" -H 'Content-Type: application/json' -d '{}'
expect_error "unknown studio_id" 404 studio_not_found "$BASE_URL/api/streaming/process-studio?studio_id=no_such_studio" -H "$AUTH"
expect_error "malformed JSON" 400 invalid_json -X POST "$BASE_URL/api/streaming/refresh-workshops" \
  -H "$AUTH" -H 'Content-Type: application/json' -d '{"studio_id": '
expect_error "not JSON" 415 unsupported_media_type -X POST "$BASE_URL/api/streaming/refresh-workshops" \
  -H "$AUTH" -d "studio_id=${STUDIO_ID}"
expect_error "no token" 401 not_authenticated "$BASE_URL/api/streaming/process-studio?studio_id=${STUDIO_ID}"
expect_error "wrong token" 401 invalid_token "$BASE_URL/api/streaming/process-studio?studio_id=${STUDIO_ID}" \
  -H "Authorization: Token not-a-real-token"
expect_error "wrong method" 405 method_not_allowed -X DELETE "$BASE_URL/api/streaming/refresh-workshops" -H "$AUTH"
expect_error "unknown run" 404 run_not_found "$BASE_URL/api/runs/987654321/events/" -H "$AUTH"

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
