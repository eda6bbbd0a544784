// One map key per (vhost, name) — a queue or an exchange — for every in-memory table keyed that way,
// so they all agree (and a queue's partition hash, which reads the same string, with them).
// NUL separates the two: vhost names with a NUL in them are not expected.

export const vhostNameKey = (vhost: string, name: string): string => `${vhost}\0${name}`;
