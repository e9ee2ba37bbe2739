#!/usr/bin/env bash
# Baseline (a): the plain sequential script a partner would write from the API reference (§12),
# one curl per step per image, one image after the other, a fresh token for every image.
#
#   bench/naive/naive.sh TOKEN_URL API_URL IMAGES_DIR OUT_DIR [LIMIT]
#
# LIMIT processes only the first LIMIT images (by name). JSON is read with jq when it is
# installed, else with python3. NAIVE_POLL_SLEEP (seconds, default 1) is the pause between
# status polls. Exits non-zero at the first failing call, as such a script would.
set -euo pipefail

TOKEN_URL=$1 API_URL=$2 IMAGES=$3 OUT=$4 LIMIT=${5:-0}
CLIENT_ID=${GTF_CLIENT_ID:-sandbox-client}
PASS_KEY=${GTF_PASS_KEY:-sandbox-pass-key}
PARTNER=${GTF_ONBOARDING_PARTNER:-KTPBRIDGE-BE-KTP_SCAN}
POLL_SLEEP=${NAIVE_POLL_SLEEP:-1}
mkdir -p "$OUT"

if command -v jq >/dev/null; then
  json() { jq -r "$1"; }
else
  # same jq-style path (.a.b.c) through python3
  json() { python3 -c 'import json,sys
v=json.load(sys.stdin)
for k in sys.argv[1].strip(".").split("."): v=v[k]
print(v)' "$1"; }
fi

n=0
for f in "$IMAGES"/*.png "$IMAGES"/*.jpg "$IMAGES"/*.jpeg; do
  [ -e "$f" ] || continue
  if [ "$LIMIT" -gt 0 ] && [ "$n" -ge "$LIMIT" ]; then break; fi
  n=$((n + 1))
  name=$(basename "$f")
  user=${name%%-*}
  case "$name" in *.png) type=image/png ;; *) type=image/jpeg ;; esac

  token=$(curl -sSf "$TOKEN_URL/v2/coe/authentication" \
    -H "client-id: $CLIENT_ID" -H "pass-key: $PASS_KEY" -H "x-onboarding-partner: $PARTNER" \
    -H "x-partner-user-id: $user" -H "x-partner-user-id-type: PARTNER_USER_ID" | json .data.token)
  session=$(cat /proc/sys/kernel/random/uuid)
  sdk=$(cat /proc/sys/kernel/random/uuid)
  auth=(-H "x-onekyc-token: $token" -H "x-partner-session-id: $session" -H "x-sdk-session-id: $sdk")

  presign=$(curl -sSf "${auth[@]}" "$API_URL/coe/v1/submissions/urls?submissionType=KTP_SCAN")
  id=$(echo "$presign" | json .data.submissionId)
  url=$(echo "$presign" | json .data.documents.KTP_FRONT.documentUrl)

  curl -sSf -T "$f" -H "Content-Type: $type" "$url" >/dev/null

  curl -sSf -X PUT "${auth[@]}" -H "Content-Type: application/json" \
    -d "{\"submissionId\":\"$id\"}" "$API_URL/coe/v1/submissions/urls" >/dev/null

  while :; do
    status=$(curl -sSf "${auth[@]}" "$API_URL/coe/v1/submissions/$id/status" | json .data.status)
    [ "$status" = COMPLETED ] || [ "$status" = ERROR ] && break
    sleep "$POLL_SLEEP"
  done

  curl -sSf -H "x-onekyc-token: $token" -H "x-submission-id: $id" "$API_URL/coe/v1/submissions" >"$OUT/$id.json"
done
echo "naive: $n images"
