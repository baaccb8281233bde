#!/usr/bin/env bash
# Static checks every commit must pass: gofmt, go vet, go.mod/go.sum tidy,
# and docker-compose.yml against the Compose specification (no container
# engine needed: compose-go, the loader of `docker compose config`).
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "lint: not gofmt-formatted:" >&2; echo "$unformatted" >&2; exit 1
fi
go vet ./...
go vet -tags chdb ./sinks/...
cp go.mod /tmp/baton-go.mod.$$; cp go.sum /tmp/baton-go.sum.$$
go mod tidy
if ! cmp -s go.mod /tmp/baton-go.mod.$$ || ! cmp -s go.sum /tmp/baton-go.sum.$$; then
  cp /tmp/baton-go.mod.$$ go.mod; cp /tmp/baton-go.sum.$$ go.sum
  rm -f /tmp/baton-go.mod.$$ /tmp/baton-go.sum.$$
  echo "lint: go.mod/go.sum are not tidy: run 'go mod tidy'" >&2; exit 1
fi
rm -f /tmp/baton-go.mod.$$ /tmp/baton-go.sum.$$
go test -count=1 -run TestComposeFileIsValid ./deploy/ >/dev/null || { go test -count=1 -run TestComposeFileIsValid ./deploy/; exit 1; }
echo "lint: ok"
