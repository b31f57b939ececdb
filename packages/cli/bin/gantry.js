#!/usr/bin/env node
// The `gantry` command. npm links this file before the build runs, so it only loads the build.
import('../dist/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/main.js')) {
    process.stderr.write(
      'gantry: the CLI is not built yet; run `npm install` (or `npm run build`) in the Gantry checkout\n',
    );
    process.exit(1);
  }
  throw err;
});
