#!/usr/bin/env -S node --max-semi-space-size=8
// Entry point installed as `warren`: runs the compiled CLI (npm run build produces dist/).
import('../dist/cli/main.js');
