'use strict';
// The worker thread of validation-engine-early.js: creates aws-cdk's validation engine first thing, then
// answers calls on it, one at a time, through a port; each answer is posted, then signalled on the shared
// flag the caller blocks on.
const fs = require('fs');
const { workerData } = require('worker_threads');

const { port, started, validatePath, rules } = workerData;
// Running: a caller that finds this still 0 after a while knows the thread never ran (it then creates the
// engine on the main thread instead of waiting for answers that cannot come).
Atomics.store(started, 0, 1);
Atomics.notify(started, 0);

// The thread runs at the process's priority. It once lowered its own (nice 19, per thread on Linux) so as
// to take only a core nobody else needs; but the main thread blocks on its answers, so with every core
// busy at the default priority the one thread everything waits for was the one that could not run: the
// example's synthesis took 140 s instead of 18 s beside two busy loops. At the process's priority it
// takes its fair share, and the synthesis is faster than with the engine on the main thread even then
// (16-18 s against 20-23 s).

let validate;
let engine;
let failure;
try {
  validate = require(validatePath);
  engine = new validate.CompositeEngine({ regoRules: rules });
} catch (error) {
  failure = error;
}

function template(source) {
  return source.path !== undefined
    ? new validate.TemplateFile(source.path)
    : new validate.TemplateContent(source.content, source.name);
}

// Options compared by content, whatever the order of their keys.
function canonical(value) {
  return JSON.stringify(value, (_, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

function answer(method, args) {
  try {
    if (failure) throw failure;
    if (method === 'version') return { value: validate.version() };
    if (method.startsWith('validate')) return { value: engine[method](template(args[0]), args[1]) };
    return { value: engine[method](...args) };
  } catch (error) {
    const described = error instanceof Error ? { name: error.name, message: error.message } : { message: String(error) };
    return { failed: true, error: described };
  }
}

// Templates validated ahead of aws-cdk's call (see 'ahead' below), by path: the bytes validated, the
// options (canonical) and the answer.
const ahead = new Map();

function validatedAhead(method, args) {
  const [source, options] = args;
  const done = method === 'validateTemplate' && source.path !== undefined && ahead.get(source.path);
  if (!done) return undefined;
  ahead.delete(source.path);
  if (done.options !== canonical(options)) return undefined;
  let bytes;
  try {
    bytes = fs.readFileSync(source.path);
  } catch {
    return undefined;
  }
  return bytes.equals(done.bytes) ? { ...done.reply, ahead: true } : undefined;
}

port.on('message', ({ method, args, answered }) => {
  if (method === 'ahead') {
    // A template aws-cdk is about to validate, with the options it will very likely pass: validated now,
    // on this otherwise idle thread, while the main thread runs cdk-nag's packs. Nobody waits for it: no
    // answer is posted. The bytes are read once and validated as such, labelled with the template's path
    // (as a TemplateFile of that path is).
    const [file, options] = args;
    try {
      const bytes = fs.readFileSync(file);
      const reply = answer('validateTemplate', [{ content: bytes, name: file }, options]);
      if (!reply.failed) ahead.set(file, { bytes, options: canonical(options), reply });
    } catch {
      // unreadable now: validated when aws-cdk asks, as without this
    }
    return;
  }
  const reply = validatedAhead(method, args) ?? answer(method, args);
  port.postMessage(reply);
  Atomics.store(answered, 0, 1);
  Atomics.notify(answered, 0);
});
