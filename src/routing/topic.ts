// Topic exchange: binding keys are dot-separated words where '*' matches exactly one word and '#'
// matches zero or more. Bindings are compiled into a trie of words (RabbitMQ's rabbit_topic_trie), so
// a publish walks the trie along its routing key: the cost depends on the key's length and the
// wildcards on the paths it can take, not on the number of bindings.
//
// Word splitting follows RabbitMQ 3.x (rabbit_exchange_type_topic:split_topic_key): "" is zero words,
// otherwise every '.' separates words, so "a." is ["a", ""] and "." is ["", ""]. An empty word is an
// ordinary word: '*' matches it, and the binding "a..b" matches only the key "a..b".

import { addRef, dropRef, type Destination, type Matcher } from './types.js';
import type { Headers } from './values.js';

interface TrieNode {
  /** Children by literal word; '*' and '#' live in their own slots. */
  words: Map<string, TrieNode> | undefined;
  star: TrieNode | undefined;
  hash: TrieNode | undefined;
  /** Destinations of the bindings whose key ends at this node, with reference counts. */
  dests: Map<Destination, number> | undefined;
}

function newNode(): TrieNode {
  return { words: undefined, star: undefined, hash: undefined, dests: undefined };
}

export function splitTopicKey(key: string): string[] {
  return key === '' ? [] : key.split('.');
}

/**
 * The trie path of a binding key: its words with runs of consecutive '#' collapsed into one, which
 * matches exactly the same keys ("#.#" ≡ "#") and keeps matching from going exponential.
 */
function bindingPath(key: string): string[] {
  const words = splitTopicKey(key);
  const path: string[] = [];
  for (const w of words) {
    if (w === '#' && path[path.length - 1] === '#') continue;
    path.push(w);
  }
  return path;
}

export class TopicMatcher implements Matcher {
  readonly type = 'topic' as const;
  private readonly root: TrieNode = newNode();
  private count = 0;

  get size(): number {
    return this.count;
  }

  bind(dest: Destination, key: string, _args: Headers | undefined): void {
    let node = this.root;
    for (const w of bindingPath(key)) node = child(node, w, true)!;
    node.dests ??= new Map();
    addRef(node.dests, dest);
    this.count++;
  }

  unbind(dest: Destination, key: string, _args: Headers | undefined): boolean {
    const path = bindingPath(key);
    const trail: TrieNode[] = [this.root];
    let node = this.root;
    for (const w of path) {
      const next = child(node, w, false);
      if (next === undefined) return false;
      trail.push(next);
      node = next;
    }
    if (node.dests === undefined || !dropRef(node.dests, dest)) return false;
    if (node.dests.size === 0) node.dests = undefined;
    this.count--;
    prune(trail, path);
    return true;
  }

  match(routingKey: string, _headers: Headers | undefined, out: Set<Destination>): void {
    matchNode(this.root, splitTopicKey(routingKey), 0, out);
  }
}

function child(node: TrieNode, word: string, create: boolean): TrieNode | undefined {
  if (word === '*') {
    if (create) node.star ??= newNode();
    return node.star;
  }
  if (word === '#') {
    if (create) node.hash ??= newNode();
    return node.hash;
  }
  let next = node.words?.get(word);
  if (next === undefined && create) {
    next = newNode();
    (node.words ??= new Map()).set(word, next);
  }
  return next;
}

function isEmptyNode(n: TrieNode): boolean {
  return n.dests === undefined && n.star === undefined && n.hash === undefined && (n.words === undefined || n.words.size === 0);
}

/** Removes the now-empty tail of a path so an unbound trie shrinks back (no leak under churn). */
function prune(trail: TrieNode[], path: string[]): void {
  for (let i = path.length; i > 0; i--) {
    const node = trail[i]!;
    if (!isEmptyNode(node)) return;
    const parent = trail[i - 1]!;
    const w = path[i - 1]!;
    if (w === '*') parent.star = undefined;
    else if (w === '#') parent.hash = undefined;
    else parent.words?.delete(w);
  }
}

function matchNode(node: TrieNode, words: readonly string[], i: number, out: Set<Destination>): void {
  // '#' may swallow any number of the remaining words, including none.
  const hash = node.hash;
  if (hash !== undefined) {
    for (let j = i; j <= words.length; j++) matchNode(hash, words, j, out);
  }
  if (i === words.length) {
    if (node.dests !== undefined) for (const d of node.dests.keys()) out.add(d);
    return;
  }
  const next = node.words?.get(words[i]!);
  if (next !== undefined) matchNode(next, words, i + 1, out);
  if (node.star !== undefined) matchNode(node.star, words, i + 1, out);
}
