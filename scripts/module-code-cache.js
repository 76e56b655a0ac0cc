'use strict';
// Preloaded (`node --require`) by scripts/jsii-node.sh into the node jsii starts for app.py and the tests.
//
// V8 compiles every CommonJS module node loads, and a synthesis loads about 900 modules of aws-cdk-lib,
// constructs and cdk-nag: about 1 s of the main thread's time in each process, the same work every time.
// Node 20 has no compile cache of its own (module.enableCompileCache came with node 22). This script keeps
// V8's code cache of each of those modules on disk and hands it back to V8 when the module is loaded again:
//
// - Which modules: those jsii loads from its install folder (os.tmpdir()/jsii-kernel-XXXXXX, new in each
//   process, whose node_modules/<package> links to the package unpacked in jsii's package cache). Not a
//   module jsii unpacked without its package cache (new in every process), nor one that calls import()
//   (see below), nor an ES module, nor any other file.
// - Keyed by what the file is: the SHA-256 of its stable name (below), its real path in jsii's package
//   cache (whose folders are named by the SHA-256 of the package's tarball), and its size, modification
//   time and inode, so that a file edited in place is compiled anew; in a folder per
//   v8.cachedDataVersionTag() (V8's version, its flags and the CPU's features: what a cache must match).
//   V8 itself checks a cache against the source's length only, not its text.
// - Under a stable name: V8 (11.3, node 20) keeps the file name a cache was made under, and functions from
//   it report that name in stack traces whatever name the module is compiled under now. Modules are
//   compiled under the name of their file with the install folder's XXXXXX made `cached`
//   (os.tmpdir()/jsii-kernel-cached/node_modules/...) in every process, cached or not, so that stack
//   traces name the same file either way; aws-cdk recognizes library frames by node_modules/<package>,
//   which the name keeps. __filename, __dirname and require are the real ones. (import() would resolve
//   from that name, which is why a module that calls it is left to node.)
// - Written when the process exits, after the modules ran, so that a cache holds the functions the run
//   compiled, not only each module's top level. A cache V8 rejects is written again.
// - Same code: V8 compiles the same source with or without a cache; the cache only spares the work.
//   Modules are wrapped and run as node's own loader runs them (module.exports as `this`, the same five
//   arguments, a `require` with resolve, resolve.paths, main, extensions and cache, the same columns in
//   stack traces), and a source this script cannot compile (a syntax error) goes to node's loader, which
//   reports it as it would have.
// - Private: the folders are created with mode 700 and not used unless they and every folder above them
//   (their real paths) are owned by this user or root and writable by no one else, or sticky as /tmp is: a
//   cache is compiled code, and one that someone else could write would run as theirs.
// - Bounded: past MODULE_CODE_CACHE_MAX_MB in all (default 256), the entries this process did not use
//   go, oldest first.
// - Steps aside: with MODULE_CODE_CACHE=0, under a debugger (--inspect), when its folder cannot be created
//   or is not private, and module by module on any error of its own (node's loader then compiles).
//
// MODULE_CODE_CACHE_DIR names the folder (default: $XDG_CACHE_HOME or ~/.cache, then
// constructs-lib/v8-code-cache). MODULE_CODE_CACHE_LOG=1 writes one line to stderr at exit: the hits, the
// misses and the time writing took.
const crypto = require('crypto');
const fs = require('fs');
const Module = require('module');
const os = require('os');
const path = require('path');
const v8 = require('v8');
const vm = require('vm');

const MAX_BYTES = (Number(process.env.MODULE_CODE_CACHE_MAX_MB) || 256) * 1024 * 1024;
// Module.wrap puts the start of node's wrapper function on the module's first line.
const WRAPPER_LENGTH = Module.wrapper[0].length;

function cacheRoot() {
  if (process.env.MODULE_CODE_CACHE_DIR) return path.resolve(process.env.MODULE_CODE_CACHE_DIR);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(path.resolve(base), 'constructs-lib', 'v8-code-cache');
}

// Whether the folder `dir` (a real path) and the folders above it are safe to run compiled code from:
// owned by this user or root, and writable by no one else; a folder above it may be if sticky (no one
// else can then replace what is ours in it).
function isPrivate(dir) {
  const uid = process.getuid();
  for (let at = dir; ; at = path.dirname(at)) {
    const stat = fs.statSync(at);
    if (!stat.isDirectory() || (stat.uid !== uid && stat.uid !== 0)) return false;
    const othersWrite = (stat.mode & 0o022) !== 0;
    if (othersWrite && (at === dir || (stat.mode & 0o1000) === 0)) return false;
    if (path.dirname(at) === at) return true;
  }
}

// The folder for this V8's caches, created private; undefined if it cannot be, or is not private.
function openFolder() {
  if (process.env.MODULE_CODE_CACHE === '0' || typeof process.getuid !== 'function') return undefined;
  if (process.execArgv.some((option) => option.startsWith('--inspect')) || require('inspector').url()) {
    return undefined;
  }
  try {
    fs.mkdirSync(cacheRoot(), { recursive: true, mode: 0o700 });
    const root = fs.realpathSync(cacheRoot());
    const dir = path.join(root, v8.cachedDataVersionTag().toString(16));
    fs.mkdirSync(dir, { mode: 0o700, recursive: true });
    return isPrivate(root) && isPrivate(dir) && fs.lstatSync(dir).isDirectory() ? { root, dir } : undefined;
  } catch {
    return undefined;
  }
}

// jsii's install folder, and what a module's path is from there on.
const JSII_FOLDER = /^(.*[\\/])jsii-kernel-[^\\/]+([\\/]node_modules[\\/].+)$/;
const CACHED_FOLDER = 'jsii-kernel-cached';

function stableName(filename, content) {
  const match = JSII_FOLDER.exec(filename);
  if (match === null || content.includes('import(')) return undefined;
  return `${match[1]}${CACHED_FOLDER}${match[2]}`;
}

// The name of a module's cache entry (a module unpacked without jsii's package cache throws).
function entryKey(name, filename) {
  const real = fs.realpathSync.native(filename);
  if (JSII_FOLDER.test(real)) throw new Error('unpacked without the package cache: new in every process');
  const stat = fs.statSync(real, { bigint: true });
  return crypto
    .createHash('sha256')
    .update([name, real, stat.size, stat.mtimeNs, stat.ino, stat.dev].join('\0'))
    .digest('hex');
}

// The `require` node's loader gives a module (lib/internal/modules/helpers.js, makeRequireFunction).
function makeRequire(mod) {
  const require = function require(id) {
    return mod.require(id);
  };
  function resolve(request, options) {
    return Module._resolveFilename(request, mod, false, options);
  }
  resolve.paths = function paths(request) {
    return Module._resolveLookupPaths(request, mod);
  };
  require.resolve = resolve;
  require.main = process.mainModule;
  require.extensions = Module._extensions;
  require.cache = Module._cache;
  return require;
}

function readIfAny(file) {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

// Past MAX_BYTES, the entries this process did not use, oldest first; and what a process stopped while
// writing left (a .tmp file over an hour old).
function prune(root, used) {
  const entries = [];
  let total = 0;
  for (const tag of fs.readdirSync(root)) {
    const dir = path.join(root, tag);
    let names;
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const file = path.join(dir, name);
      try {
        const stat = fs.statSync(file);
        if (name.endsWith('.tmp') && Date.now() - stat.mtimeMs > 3_600_000) {
          fs.unlinkSync(file);
          continue;
        }
        total += stat.size;
        if (!used.has(file)) entries.push({ file, size: stat.size, mtime: stat.mtimeMs });
      } catch {
        // gone meanwhile (another process pruned it)
      }
    }
  }
  entries.sort((a, b) => a.mtime - b.mtime);
  for (const entry of entries) {
    if (total <= MAX_BYTES) break;
    try {
      fs.unlinkSync(entry.file);
      total -= entry.size;
    } catch {
      // gone meanwhile
    }
  }
}

function start() {
  const folder = openFolder();
  if (folder === undefined) return;
  const original = Module.prototype._compile;
  const toWrite = new Map(); // cache file -> the vm.Script to take its cache from at exit
  const used = new Set();
  let hits = 0;

  Module.prototype._compile = function _compile(content, filename, format) {
    const name = format === 'module' ? undefined : stableName(filename, content);
    if (name === undefined) return Reflect.apply(original, this, arguments);
    let script;
    try {
      const file = path.join(folder.dir, entryKey(name, filename));
      const cachedData = readIfAny(file);
      script = new vm.Script(Module.wrap(content), {
        filename: name,
        columnOffset: -WRAPPER_LENGTH, // columns in stack traces as node's loader gives them
        cachedData,
      });
      used.add(file);
      if (cachedData === undefined || script.cachedDataRejected) toWrite.set(file, script);
      else hits += 1;
    } catch {
      // not for this script to report (a syntax error, say): node's loader compiles it as before
      return Reflect.apply(original, this, arguments);
    }
    const wrapper = script.runInThisContext({ displayErrors: true });
    return Reflect.apply(wrapper, this.exports, [this.exports, makeRequire(this), this, filename, path.dirname(filename)]);
  };

  process.once('exit', () => {
    const started = Date.now();
    for (const [file, script] of toWrite) {
      const temporary = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
      try {
        fs.writeFileSync(temporary, script.createCachedData(), { mode: 0o600, flag: 'wx' });
        fs.renameSync(temporary, file);
      } catch {
        fs.rmSync(temporary, { force: true });
      }
    }
    try {
      if (toWrite.size > 0) prune(folder.root, used);
    } catch {
      // a cache that could not be pruned this time is pruned by the next process that writes
    }
    if (process.env.MODULE_CODE_CACHE_LOG === '1') {
      process.stderr.write(`[module-code-cache] ${hits} hits, ${toWrite.size} misses, ${Date.now() - started} ms at exit\n`);
    }
  });
}

start();
