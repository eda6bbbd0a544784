// The committed generator output matches the spec, and the generated tables agree with the spec JSON
// and with amqplib's independently generated defs.js.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HEADER, generate } from '../../../scripts/gen-amqp.js';
import {
  FRAME_END, FRAME_HEARTBEAT, FRAME_METHOD, METHODS, METHOD_NAME_BY_ID, NOT_FOUND, REPLY_CODE_CLASS,
  methodHasContent, methodId, methodNameById,
} from '../../../src/amqp/index.js';
import { isHardError } from '../../../src/amqp/errors.js';
import { amqplibId, defs } from './amqplib-defs.js';

const read = (rel: string): string => readFileSync(fileURLToPath(new URL(rel, import.meta.url)), 'utf8');
const specText = read('../../../src/amqp/spec.json');

interface SpecJson {
  copyright: string[] | string;
  classes: { id: number; name: string; methods: { id: number; name: string; arguments: unknown[] }[] }[];
}
const spec = JSON.parse(specText) as SpecJson;

describe('generator', () => {
  test('src/amqp/generated.ts is exactly what scripts/gen-amqp.ts produces from src/amqp/spec.json (run `npm run gen`)', () => {
    const committed = read('../../../src/amqp/generated.ts');
    const fresh = generate(specText);
    assert.ok(fresh.startsWith(`${HEADER}\n`));
    assert.equal(committed, fresh);
  });

  test('is deterministic and accepts a parsed spec', () => {
    assert.equal(generate(specText), generate(JSON.parse(specText) as object));
  });

  test('spec.json is the shared reference, verbatim, with its permission notice', () => {
    // The shared reference lives outside the repo (/work/shared); compare when it is present.
    const shared = fileURLToPath(new URL('../../../../shared/ref/amqp-rabbitmq-0.9.1.json', import.meta.url));
    if (existsSync(shared)) assert.equal(specText, readFileSync(shared, 'utf8'));
    assert.match(JSON.stringify(spec.copyright), /Permission is hereby granted/);
  });

  test('a spec change shows up in the output (the regeneration check can fail)', () => {
    const changed = JSON.parse(specText) as SpecJson;
    changed.classes[0]!.methods[0]!.arguments.push({ type: 'octet', name: 'extra-thing' });
    assert.match(generate(changed), /extraThing: number;/);
    assert.notEqual(generate(changed), generate(specText));
  });
});

describe('generated tables', () => {
  test('one METHODS entry per spec method, ids and names from the spec', () => {
    const expected = spec.classes.flatMap((c) => c.methods.map((m) => `${c.name}.${m.name}:${c.id}/${m.id}`));
    assert.deepEqual(METHODS.map((m) => `${m.name}:${m.classId}/${m.methodId}`), expected);
    assert.ok(METHODS.length >= 60);
  });

  test('methodId and the id lookup are inverse', () => {
    for (const m of METHODS) {
      assert.deepEqual(methodId(m.name), { classId: m.classId, methodId: m.methodId });
      assert.equal(METHOD_NAME_BY_ID.get((m.classId << 16) | m.methodId), m.name);
      assert.equal(methodNameById(m.classId, m.methodId), m.name);
    }
    assert.equal(methodNameById(60, 41), undefined);
    assert.deepEqual(methodId('exchange.unbind-ok'), { classId: 40, methodId: 51 });
    assert.deepEqual(methodId('confirm.select'), { classId: 85, methodId: 10 });
  });

  test('methodHasContent is true exactly for publish, return, deliver, get-ok', () => {
    const withContent = METHODS.filter((m) => methodHasContent(m.name)).map((m) => m.name);
    assert.deepEqual(withContent, ['basic.publish', 'basic.return', 'basic.deliver', 'basic.get-ok']);
  });

  test('argument names and types agree with amqplib for every method', () => {
    for (const m of METHODS) {
      const info = (defs.info as (id: number) => { args: { name: string; type: string }[] })(amqplibId(m.classId, m.methodId));
      const theirs = info.args.map((a) => `${a.name}:${a.type}`);
      assert.deepEqual(m.args.map((a) => `${a.name}:${a.type}`), theirs, m.name);
    }
  });

  test('constants come from the spec, and soft/hard classes agree with errors.ts', () => {
    assert.equal(FRAME_METHOD, 1);
    assert.equal(FRAME_HEARTBEAT, 8);
    assert.equal(FRAME_END, 206);
    assert.equal(NOT_FOUND, 404);
    for (const [code, cls] of Object.entries(REPLY_CODE_CLASS)) {
      assert.equal(isHardError(Number(code)), cls === 'hard-error', `reply code ${code}`);
    }
  });
});
