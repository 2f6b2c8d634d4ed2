#!/usr/bin/env bash
# Starts or stops the local AWS (moto + aws-testbed) in the background; `up` writes
# .testbed/env with AWS_ENDPOINT_URL, region and test credentials, and waits until it answers.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.testbed
case "${1:-}" in
  up)
    mkdir -p "$dir"
    if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then echo "testbed already running"; exit 0; fi
    MOTO_SERVER="$PWD/.tools/venv/bin/moto_server" nohup ./target/debug/aws-testbed --port "${TESTBED_PORT:-4566}" >"$dir/out" 2>"$dir/err" &
    echo $! >"$dir/pid"
    for _ in $(seq 100); do grep -q '^TESTBED_URL=' "$dir/out" 2>/dev/null && break; sleep 0.1; done
    url=$(sed -n 's/^TESTBED_URL=//p' "$dir/out")
    [ -n "$url" ] || { echo "testbed did not start:"; cat "$dir/err"; exit 1; }
    printf 'export AWS_ENDPOINT_URL=%s\nexport AWS_REGION=us-west-2\nexport AWS_ACCESS_KEY_ID=test\nexport AWS_SECRET_ACCESS_KEY=test\nexport TF_EKS_POLL_MIN_MS=100\n' "$url" >"$dir/env"
    echo "testbed at $url (source $dir/env)"
    ;;
  down)
    [ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null || true
    rm -f "$dir/pid"
    ;;
  *) echo "usage: $0 up|down"; exit 2 ;;
esac
