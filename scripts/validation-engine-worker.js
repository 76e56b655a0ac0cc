'use strict';
// The worker thread of validation-engine-early.js: creates aws-cdk's validation engine first thing, then
// answers calls on it, one at a time, through a port; each answer is posted, then signalled on the shared
// flag the caller blocks on.
const { workerData } = require('worker_threads');

const { port, started, validatePath, rules } = workerData;
// Running: a caller that finds this still 0 after a while knows the thread never ran (it then creates the
// engine on the main thread instead of waiting for answers that cannot come).
Atomics.store(started, 0, 1);
Atomics.notify(started, 0);

// The lowest scheduling priority, for this thread only (Linux's nice value is per thread; elsewhere it is
// per process, so it is left alone there): the worker takes a core nobody else needs, as while the stacks
// are built, and yields one others need, as in a process that never validates or when every core is busy
// (then the engine is created when aws-cdk waits for it, as without the worker).
if (process.platform === 'linux') {
  try {
    require('os').setPriority(19);
  } catch {
    // not allowed here: the default priority, as without this
  }
}

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

port.on('message', ({ method, args, answered }) => {
  let reply;
  try {
    if (failure) throw failure;
    if (method === 'version') reply = { value: validate.version() };
    else if (method.startsWith('validate')) reply = { value: engine[method](template(args[0]), args[1]) };
    else reply = { value: engine[method](...args) };
  } catch (error) {
    const described = error instanceof Error ? { name: error.name, message: error.message } : { message: String(error) };
    reply = { failed: true, error: described };
  }
  port.postMessage(reply);
  Atomics.store(answered, 0, 1);
  Atomics.notify(answered, 0);
});
