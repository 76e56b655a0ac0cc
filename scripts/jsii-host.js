'use strict';
// Runs jsii's kernel (the runtime's lib/program.js) in this process, on the pipes python started node with.
//
//     node --preserve-symlinks jsii-host.js <the runtime's bin/jsii-runtime.js>
//
// jsii's own entry point, bin/jsii-runtime.js, is a relay: it starts a second node for lib/program.js and
// copies every request and every answer between python's pipes and that node's API channel (fd 3),
// asynchronously, so that what a library prints cannot corrupt the protocol on stdout. Each of the
// thousands of round trips of a synthesis then crosses three processes and two event-loop turns, and the
// relay node holds its own heap. scripts/jsii-node.sh starts this script instead; it runs the same
// program.js with the same node options (--preserve-symlinks, as the relay gives its child) and:
//
// - the kernel reads requests from fd 0 and writes answers to fd 1 (python's pipes), instead of fd 3;
// - what anything else writes to process.stdout or process.stderr goes to fd 2 as the relay sends it
//   ({"stdout": base64} and {"stderr": base64} lines, which jsii's python client decodes and prints).
//
// It steps aside, and runs jsii's relay as before, when program.js does not read and write fd 3 the way
// this script expects (another jsii version), or with JSII_HOST_DIRECT=0.
const fs = require('fs');
const Module = require('module');
const path = require('path');
const { Readable, Writable } = require('stream');

const FD_3 = 'readFD:3,writeFD:3';

const runtime = process.argv[2];
const program = path.resolve(path.dirname(runtime), '..', 'lib', 'program.js');

// The program's source with the kernel's channel on fds 0 and 1, or undefined if it is not as expected.
function directProgram() {
  if (process.env.JSII_HOST_DIRECT === '0') return undefined;
  let source;
  try {
    source = fs.readFileSync(program, 'utf-8');
  } catch {
    return undefined;
  }
  const at = source.indexOf(FD_3);
  if (at < 0 || source.indexOf(FD_3, at + 1) >= 0) return undefined;
  return source.slice(0, at) + 'readFD:0,writeFD:1' + source.slice(at + FD_3.length);
}

// All of `line` to fd 2, waiting while a non-blocking fd 2 is full (as jsii's own writes do).
function writeErrorLine(line) {
  const buffer = Buffer.from(line);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let written = 0, wait = 1; written < buffer.length; ) {
    try {
      written += fs.writeSync(2, buffer, written);
    } catch (error) {
      if (error.code !== 'EAGAIN') throw error;
      Atomics.wait(pause, 0, 0, wait);
      wait = Math.min(2 * wait, 10);
    }
  }
}

// A stream that sends what is written to it as the relay sends its child's output: one JSON line on fd 2.
function relayed(key) {
  const stream = new Writable({
    write(chunk, encoding, done) {
      const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding);
      try {
        writeErrorLine(`${JSON.stringify({ [key]: data.toString('base64') })}\n`);
      } catch (error) {
        return done(error);
      }
      return done();
    },
  });
  stream.isTTY = false;
  return stream;
}

const source = directProgram();
if (source === undefined) {
  require(runtime);
} else {
  // Before anything touches them (the console writes to them lazily): fd 1 is the protocol's now.
  for (const key of ['stdout', 'stderr']) {
    Object.defineProperty(process, key, { value: relayed(key), configurable: true, enumerable: true });
  }
  // fd 0 is the protocol's too: an empty stdin, as the relay gives its child (it would read the requests).
  const stdin = new Readable({ read() {} });
  stdin.push(null);
  Object.defineProperty(process, 'stdin', { value: stdin, configurable: true, enumerable: true });
  process.argv[1] = program;
  process.argv.splice(2, 1);
  const kernel = new Module(program, null);
  kernel.filename = program;
  kernel.paths = Module._nodeModulePaths(path.dirname(program));
  kernel._compile(source, program);
}
