// How metadata commands and records are written down: in the metadata group's Raft log and as its
// stored keys. JSON, except that every field table (the `arguments` of exchanges, queues and
// bindings) is carried as the AMQP field-table encoding, so each value keeps its wire type through
// the log and across restarts — equivalence errors name the type the client sent ("of type
// 'short'"), which a plain JSON number would lose.
import { decodeTable, encodeTable, wireTag, type FieldTable, type FieldValue } from '../amqp/table.js';

const TABLE_FIELD = 'arguments';

/** A copy of `table` in which numbers decoded from the wire carry their tag explicitly, nested tables too. */
export function withWireTypes(table: FieldTable): FieldTable {
  const out: { [k: string]: FieldValue } = {};
  for (const key of Object.keys(table)) {
    const v = table[key];
    if (v === undefined) continue;
    const tag = wireTag(table, key);
    if (tag !== undefined && (typeof v === 'number' || typeof v === 'bigint')) out[key] = { $type: tag, value: v };
    else if (isPlainTable(v)) out[key] = withWireTypes(v);
    else out[key] = v;
  }
  return out;
}

function isPlainTable(v: FieldValue): v is FieldTable {
  return typeof v === 'object' && v !== null && !Buffer.isBuffer(v) && !Array.isArray(v) && !('$type' in v);
}

export function encodeMeta(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value, (key, v: unknown) => {
    if (key === TABLE_FIELD && typeof v === 'object' && v !== null) {
      return { $table: encodeTable(withWireTypes(v as FieldTable)).toString('base64') };
    }
    return v;
  }));
}

export function decodeMeta<T>(bytes: Uint8Array): T {
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), (key, v: unknown) => {
    if (key === TABLE_FIELD && typeof v === 'object' && v !== null && '$table' in v) {
      const buf = Buffer.from((v as { $table: string }).$table, 'base64');
      return decodeTable(buf, 0).table;
    }
    return v;
  }) as T;
}
