// The V8 flags every Warren node runs with. They must be on node's command line: V8 sizes its heap
// when the process starts, and v8.setFlagsFromString cannot change the new space afterwards.
//
// --max-semi-space-size=8: a frontend keeps ~16 MB live while it allocates ~40 MB/s; with V8's
// default 16 MB semi-spaces the old generation's headroom above that live set is smaller than the
// young generation, so V8 starts a full mark-compact every ~200 ms (measured with --trace-gc:
// 25–40 of them in a 15 s cluster bench, a third of a frontend's CPU in marking and sweeping).
// 8 MB semi-spaces leave scavenges to do that work: through `npm run cluster`, three interleaved
// rounds of 15 s durable benches spent 128–133 µs of CPU per message in all five nodes against
// 142–177 with the default (frontends 23–26 against 31–43), and moved 11.7–12.1k msg/s against
// 9.1–11.3k. The embedded broker measured the same either way.
//
// Where a node is started — the launcher (below), `npm start`, bin/warren.js's shebang and the
// image's ENTRYPOINT — these flags are written out; test/unit/launcher/node-flags.test.ts and
// test/helm/contract.ts check that each of those carries exactly this list.
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
