#!/bin/sh
# Greets the name given as the first argument.
set -eu
echo "Hello, ${1:-world}, from the demo repository"
