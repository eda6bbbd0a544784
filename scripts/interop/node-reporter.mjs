// A node:test reporter that writes one JSON line per finished test:
//   {"id": "<file relative to cwd> :: <suite> > <suite> > <test>", "status": "pass|fail|skip|todo",
//    "failureType": "...", "error": "first lines of the error"}
// scripts/interop/results.mjs reads these lines to compare failures with the skip list.
// Only leaf tests are written: a suite or file that fails only because a child failed
// (failureType 'subtestsFailed') adds nothing, but a file that times out or crashes does.
import { relative } from 'node:path';

/** Names of the tests started at each nesting level, per file (events of one file arrive in order). */
const stacks = new Map();

function idOf(data) {
  const file = data.file ? relative(process.cwd(), data.file) : '?';
  const stack = stacks.get(data.file) ?? [];
  const isFileLevel = data.file !== undefined && data.name === data.file;
  const path = isFileLevel ? [] : [...stack.slice(0, data.nesting), data.name];
  return `${file} :: ${path.join(' > ') || '(file)'}`;
}

function errorText(err) {
  const cause = err?.cause ?? err;
  const text = String(cause?.message ?? cause ?? '');
  return text.split('\n').slice(0, 6).join('\n');
}

export default async function* interopReporter(source) {
  for await (const { type, data } of source) {
    if (type === 'test:start') {
      const stack = stacks.get(data.file) ?? [];
      stack.length = data.nesting;
      stack[data.nesting] = data.name;
      stacks.set(data.file, stack);
      continue;
    }
    if (type !== 'test:pass' && type !== 'test:fail') continue;
    const details = data.details ?? {};
    const failureType = details.error?.failureType;
    const isFileLevel = data.file !== undefined && data.name === data.file;
    if (type === 'test:pass' && (details.type === 'suite' || isFileLevel)) continue;
    if (type === 'test:fail' && failureType === 'subtestsFailed') continue;
    const status = type === 'test:fail' ? 'fail' : data.skip !== undefined ? 'skip' : data.todo !== undefined ? 'todo' : 'pass';
    const line = { id: idOf(data), status };
    if (status === 'fail') Object.assign(line, { failureType, error: errorText(details.error) });
    yield `${JSON.stringify(line)}\n`;
  }
}
