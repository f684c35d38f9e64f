#!/bin/sh
# The `web` pod image: answers every GET with its own pod name (the hostname), so a test
# or drill can tell which pod a Service sent it to.
set -e
name="${HOSTNAME:-$(cat /etc/hostname 2>/dev/null || hostname)}"
mkdir -p /www
echo "$name" > /www/index.html
exec httpd -f -p "${PORT:-8080}" -h /www
