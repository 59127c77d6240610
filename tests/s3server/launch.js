// tests/s3server/launch.js - start the S3 test server (@20minutes/s3rver 4.0.4).
//
// The published package ships no bin/ script: lib/cli.js only builds and exports its
// commander program. This file runs it. node_modules is looked up beside this file
// (where `npm ci` put it) unless JA_S3SERVER_MODULES names another node_modules.
// With JA_S3SERVER_EXIT_WITH_PARENT=1 the server exits when the process that started
// it is gone (tests must not leave a server behind when their runner is killed).
//
//   node --openssl-legacy-provider launch.js -d DIR -a 127.0.0.1 -p 0 --no-vhost-buckets ...
//
// --openssl-legacy-provider: the server encrypts list continuation tokens with DES.
'use strict';
const path = require('path');

const modules = process.env.JA_S3SERVER_MODULES || path.join(__dirname, 'node_modules');
const cliPath = path.join(modules, '@20minutes', 's3rver', 'lib', 'cli.js');

function fail(what, err) {
  process.stderr.write(`launch.js: ${what}: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
}

let program;
try {
  program = require(cliPath);
} catch (err) {
  fail(`cannot load ${cliPath} (run scripts/deps.sh or npm ci in tests/s3server)`, err);
}
if (!program || typeof program.parseAsync !== 'function') {
  fail(cliPath, 'does not export a commander program');
}

// Linux: the parent pid as it is now (process.ppid is fixed at start-up).
function currentParent() {
  try {
    const stat = require('fs').readFileSync('/proc/self/stat', 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch (err) {
    return process.ppid;
  }
}

if (process.env.JA_S3SERVER_EXIT_WITH_PARENT === '1') {
  const parent = currentParent();
  setInterval(() => {
    if (currentParent() !== parent) process.exit(0);
  }, 500).unref();
}
program.parseAsync(process.argv).catch((err) => fail('server failed', err));
