#!/usr/bin/env node
// The `duban` command; the code is compiled into dist/ by `npm run build`.
require('../dist/cli/duban.js').run(process.argv).then((code) => {
  process.exitCode = code;
});
