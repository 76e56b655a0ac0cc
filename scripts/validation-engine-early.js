'use strict';
// Preloaded (`node --require`) by scripts/jsii-node.sh into the node jsii starts for app.py and the tests.
//
// aws-cdk validates every synthesized template with a WebAssembly engine (its built-in CloudFormation
// validation, `@aws/cloudformation-validate`). Creating that engine takes 1-2 s of CPU, and aws-cdk does it
// when `app.synth()` validates, after the stacks are built. While the stacks are built, python and node take
// turns (one core busy, waiting on each other through jsii's pipe), so on a 2-core machine the other core
// is free: this script creates the engine there, on a worker thread (validation-engine-worker.js) started
// as soon as node loads aws-cdk-lib, and gives aws-cdk that engine when it asks for one with the same
// configuration. The worker runs at the process's priority (see there). Once aws-cdk has written the cloud
// assembly, the worker also validates its stack templates while cdk-nag's packs run on the main thread
// (validateAhead below), so aws-cdk's own calls find that work done.
//
// - Same results: the worker runs the same package's same engine with the same rules on the same
//   template bytes and options; only the thread differs. Reports cross threads by structured clone.
// - Only where it is the same engine: aws-cdk's default engine (its bundled rules, nothing else). An engine
//   created with any other configuration, or a second engine, is created as before, on the main thread.
// - Never worse than before: if the worker's thread does not start, cannot create the engine or does not
//   answer within ANSWER_WITHIN_MS, the engine is created on the main thread and the call is made there.
// - Nothing when the worker's script is not beside this one.
// - Nothing when aws-cdk would not validate (CDK_VALIDATION=false), when no aws-cdk-lib is loaded, or with
//   VALIDATION_ENGINE_EARLY=0 (the switch to compare with, or to rule this out when debugging).
// - VALIDATION_ENGINE_EARLY_LOG=1 writes one line to stderr for each engine handed out (tests read it).
//
// What it relies on from aws-cdk-lib (2.275), checked by tests/stacks/test_validation_engine_early.py
// against the installed version: the package root is loaded through its index.js; its default rules are
// the *.rego files of core/lib/validation/rules, read in sorted order as {name, content}; and it creates
// its engine as `new (require('@aws/cloudformation-validate').CompositeEngine)({regoRules})`; it validates
// each stack template with the options of cdkValidateOptions below. Should aws-cdk change any of it, its
// engine is no longer recognized and is created as before, or the work done ahead is not used.

const Module = require('module');
const fs = require('fs');
const path = require('path');
const { isMainThread, MessageChannel, receiveMessageOnPort, Worker } = require('worker_threads');

const VALIDATE = '@aws/cloudformation-validate';
// How long a call may wait for the worker before the engine is created on the main thread instead (creating
// it takes 1-2 s here); VALIDATION_ENGINE_EARLY_WAIT_MS sets it (the tests use a short one).
const ANSWER_WITHIN_MS = Number(process.env.VALIDATION_ENGINE_EARLY_WAIT_MS) || 120_000;
// How long a call waits for a worker thread that has not started running (it starts in milliseconds; one
// that has not after this never will, say its script failed to load).
const START_WITHIN_MS = Math.min(10_000, ANSWER_WITHIN_MS);
const LOG = process.env.VALIDATION_ENGINE_EARLY_LOG === '1';

function log(message) {
  if (LOG) process.stderr.write(`[validation-engine-early] ${message}\n`);
}

// The worker thread's script, beside this one.
const WORKER = path.join(__dirname, 'validation-engine-worker.js');

function defaultRules(cdkRoot) {
  const dir = path.join(cdkRoot, 'core', 'lib', 'validation', 'rules');
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.rego'))
    .sort()
    .map((file) => ({ name: file, content: fs.readFileSync(path.join(dir, file), 'utf-8') }));
}

function sameRules(given, rules) {
  return (
    Array.isArray(given) &&
    given.length === rules.length &&
    given.every((rule, i) => rule && rule.name === rules[i].name && rule.content === rules[i].content)
  );
}

// One early engine per process, for the first matching request.
class Early {
  constructor(cdkRoot) {
    this.validatePath = require.resolve(VALIDATE, { paths: [cdkRoot] });
    this.rules = defaultRules(cdkRoot);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.started = new Int32Array(new SharedArrayBuffer(4));
    this.worker = new Worker(WORKER, {
      workerData: { port: port2, started: this.started, validatePath: this.validatePath, rules: this.rules },
      transferList: [port2],
    });
    // Neither keeps node alive: a process that never validates exits as before.
    this.worker.unref();
    this.port.unref();
    this.worker.on('error', () => {}); // reported through the calls instead (no answer: main-thread engine)
    this.handedOut = false;
    this.declined = false;
    this.stopped = false;
  }

  // A synchronous call into the worker: post, then block until it answers (at most ANSWER_WITHIN_MS).
  call(method, args) {
    // A worker whose thread never ran cannot answer: do not wait ANSWER_WITHIN_MS for it. (Its 'error'
    // event would say why, but node's event loop does not run while jsii waits for python.)
    if (Atomics.wait(this.started, 0, 0, START_WITHIN_MS) === 'timed-out') {
      return { failed: true, error: { message: `its thread did not start within ${START_WITHIN_MS} ms` }, unanswered: true };
    }
    const answered = new Int32Array(new SharedArrayBuffer(4));
    this.port.postMessage({ method, args, answered });
    if (Atomics.wait(answered, 0, 0, ANSWER_WITHIN_MS) === 'timed-out') {
      return { failed: true, error: { message: `no answer within ${ANSWER_WITHIN_MS} ms` }, unanswered: true };
    }
    return receiveMessageOnPort(this.port).message;
  }

  // aws-cdk writes the cloud assembly's manifest after the templates, then runs the validation plugins:
  // cdk-nag's packs first (when added), its own CloudFormation validation last. Each stack template the
  // manifest lists is sent to the worker to be validated now, with the options aws-cdk passes, so that
  // aws-cdk's call finds the work done. The worker answers it from that only for the same template
  // bytes and the same options; otherwise it validates as usual.
  validateAhead(manifestFile, text) {
    const manifest = JSON.parse(text);
    for (const artifact of Object.values(manifest.artifacts ?? {})) {
      if (artifact.type !== 'aws:cloudformation:stack' || typeof artifact.properties?.templateFile !== 'string') continue;
      const [, account, region] = /^aws:\/\/([^/]*)\/(.*)$/.exec(artifact.environment ?? '') ?? [];
      const options = cdkValidateOptions(account === 'unknown-account' ? undefined : account, region === 'unknown-region' ? undefined : region);
      const file = path.join(path.dirname(manifestFile), artifact.properties.templateFile); // as aws-cdk joins it
      this.port.postMessage({ method: 'ahead', args: [file, options] });
    }
  }

  stop() {
    this.stopped = true;
    this.worker.terminate();
  }
}

// The options aws-cdk's CloudFormationValidatePlugin validates each stack template with (its rules to
// ignore, in its order). Should they change, answers prepared with these are not used (see validateAhead).
const CDK_IGNORED_RULES = ['W3005', 'W1020', 'E1018', 'W9002', 'W9013', 'W1103'];
function cdkValidateOptions(accountId, region) {
  return {
    detailLevel: 'STANDARD',
    pseudoParameterOverrides: { accountId, region },
    exclude: { ids: [...CDK_IGNORED_RULES], services: [{ ruleId: 'W3697', service: 'AWS::AutoScaling' }] },
    severityLevel: 'WARN',
  };
}

// The engine handed to aws-cdk: each call goes to the worker's engine; if the worker cannot serve
// (creating its engine failed, or no answer), the engine is created here, as aws-cdk would have, once.
class WorkerEngine {
  constructor(early, loadReal, config) {
    this.early = early;
    this.loadReal = loadReal;
    this.config = config;
    this.local = undefined;
  }

  run(method, args, worker) {
    if (this.local === undefined) {
      const reply = this.early.call(method, worker);
      if (reply.ahead) log(`validated ahead of aws-cdk's call: ${path.basename(worker[0].path)}`);
      if (!reply.failed) return reply.value;
      // Did the engine refuse this call (an error aws-cdk would have seen as well), or is there no engine?
      const alive = reply.unanswered ? reply : this.early.call('engineName', []);
      if (!alive.failed) {
        const error = new Error(reply.error.message);
        error.name = reply.error.name || 'Error';
        throw error;
      }
      log(`worker engine unavailable (${alive.error.message}); creating the engine on the main thread`);
      this.early.stop();
      this.local = new (this.loadReal().CompositeEngine)(this.config);
    }
    return this.local[method](...args);
  }

  validateTemplate(template, config) {
    return this.run('validateTemplate', [template, config], [source(template), config]);
  }
  validateStandard(template, config) {
    return this.run('validateStandard', [template, config], [source(template), config]);
  }
  validateDetailed(template, config) {
    return this.run('validateDetailed', [template, config], [source(template), config]);
  }
  validateAwsCliCommand(request) {
    // Its request is a class instance checked with instanceof: served by a main-thread engine.
    if (this.local === undefined) this.local = new (this.loadReal().CompositeEngine)(this.config);
    return this.local.validateAwsCliCommand(request);
  }
  listRules() {
    return this.run('listRules', [], []);
  }
  engineName() {
    return this.run('engineName', [], []);
  }
  free() {
    if (this.local !== undefined) this.local.free();
    this.early.stop();
  }
}

// What a template is, for the worker: a file by its path, or content with its name (the two kinds the
// package has; its own templateLabel tells them apart the same way).
function source(template) {
  return typeof template.content === 'string' || template.content instanceof Uint8Array
    ? { content: template.content, name: template.name }
    : { path: template.path };
}

// The package as aws-cdk sees it: its own module, but CompositeEngine hands out the early engine the
// first time it is asked for aws-cdk's default configuration. The real module (and its 8.5 MB of wasm) is
// loaded on the main thread only when something else is needed.
function facade(early, loadReal) {
  let real;
  const getReal = () => (real ??= loadReal());
  function CompositeEngine(config) {
    const matches =
      config !== null && typeof config === 'object' && Object.keys(config).join() === 'regoRules' && sameRules(config.regoRules, early.rules);
    if (matches && !early.handedOut) {
      early.handedOut = true;
      log('handing out the engine created on the worker thread');
      return new WorkerEngine(early, getReal, config);
    }
    log(`creating the engine on the main thread (${matches ? 'a second engine' : 'another configuration'})`);
    early.declined = true; // aws-cdk validates with another engine: validating ahead would be wasted
    return new (getReal().CompositeEngine)(config);
  }
  class TemplateFile {
    constructor(filePath) {
      this.path = filePath;
    }
    readBytes() {
      return fs.readFileSync(this.path);
    }
  }
  return new Proxy(
    {},
    {
      get(_, name) {
        if (name === 'CompositeEngine') return CompositeEngine;
        if (name === 'version' && real === undefined) {
          return () => {
            const reply = early.call('version', []);
            return reply.failed ? getReal().version() : reply.value;
          };
        }
        // A TemplateFile is a path and a reader, the same for every engine: no need to load the real module.
        if (name === 'TemplateFile' && real === undefined) return TemplateFile;
        return getReal()[name];
      },
      has(_, name) {
        return name === 'CompositeEngine' || name in getReal();
      },
    },
  );
}

function install() {
  let early; // undefined: aws-cdk-lib not seen yet; null: not started (or failed to start); else the worker
  let wrapped;
  const load = Module._load;
  Module._load = function (request, parent, isMain) {
    if (early === undefined && path.isAbsolute(request) && path.basename(request) === 'index.js') {
      const root = path.dirname(request);
      if (
        path.basename(root) === 'aws-cdk-lib' &&
        fs.existsSync(path.join(root, 'core', 'lib', 'validation', 'rules')) &&
        fs.existsSync(WORKER)
      ) {
        try {
          early = new Early(root);
          log(`creating aws-cdk's validation engine on a worker thread (${early.validatePath})`);
        } catch (error) {
          early = null;
          log(`not started: ${error && error.message}`);
        }
      }
    }
    if (request === VALIDATE && early) {
      wrapped ??= facade(early, () => load.call(this, request, parent, isMain));
      return wrapped;
    }
    return load.apply(this, arguments);
  };
  // The cloud assembly's manifest is written with fs.writeFileSync (aws-cdk's cloud-assembly-schema).
  const writeFileSync = fs.writeFileSync;
  fs.writeFileSync = function (file, data, ...rest) {
    const written = writeFileSync.call(this, file, data, ...rest);
    if (early && !early.stopped && !early.declined && typeof file === 'string' && typeof data === 'string' && path.basename(file) === 'manifest.json') {
      try {
        early.validateAhead(file, data);
      } catch {
        // not a manifest this understands: aws-cdk's calls are validated as they come
      }
    }
    return written;
  };
}

if (isMainThread && process.env.CDK_VALIDATION !== 'false' && process.env.VALIDATION_ENGINE_EARLY !== '0') install();
