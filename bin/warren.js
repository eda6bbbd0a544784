#!/usr/bin/env node
// Entry point installed as `warren`: runs the compiled CLI (npm run build produces dist/).
import('../dist/cli/main.js');
