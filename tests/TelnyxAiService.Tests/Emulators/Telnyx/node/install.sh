#!/usr/bin/env sh
# Installs the official telnyx npm package next to verify.mjs (node_modules is gitignored).
# TelnyxNodeSdkFidelityTests skip until this has run.
set -eu
cd "$(dirname "$0")"
npm install --no-audit --no-fund --loglevel=error
