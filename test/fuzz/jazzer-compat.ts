// Lets @jazzer.js/fuzzer 4.0.0's prebuilt addon load on glibc < 2.38 / libstdc++ < GCC 13 (Debian 12).
//
// Why: the npm package ships only prebuilt binaries (no C++ sources, and its CMake build downloads
// libFuzzer from GitHub), and the linux-x64 one was linked against glibc 2.38 and GCC 13's libstdc++.
// It needs exactly three symbols those older libraries lack:
//   __isoc23_strtol, __isoc23_strtoul  (GLIBC_2.38: C23 strtol, which also accepts a "0b" prefix)
//   std::ios_base_library_init()       (GLIBCXX_3.4.32: GCC 13's iostream initialisation hook)
// So, only when loading the original fails with "version `...' not found":
//   1. a tiny shim library defining those three symbols under those version names is compiled with
//      g++ (it forwards to strtol/strtoul and initialises iostreams the GCC 12 way) and loaded with
//      RTLD_GLOBAL, so the dynamic linker binds the addon's references to it;
//   2. a copy of the addon is made whose version-needed entries for GLIBC_2.38 and GLIBCXX_3.4.32 are
//      flagged VER_FLG_WEAK (2 bytes changed), so the loader no longer insists libc/libstdc++ define
//      those version names.
// Both land in node_modules/.cache/warren-fuzz/ (nothing in node_modules is modified). On a host with
// a new enough glibc the original loads and none of this runs.
//
// Loaded with `node --import ./test/fuzz/jazzer-compat.ts` before the jazzer CLI (see run.ts).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';

const CACHE_DIR = join(process.cwd(), 'node_modules', '.cache', 'warren-fuzz');
const ADDON_SUFFIX = `fuzzer-${process.platform}-${process.arch}.node`;
const WEAKEN_VERSIONS = ['GLIBC_2.38', 'GLIBCXX_3.4.32'];

const SHIM_SOURCE = `#include <cstdlib>
#include <ios>
extern "C" long __isoc23_strtol(const char* s, char** end, int base) { return std::strtol(s, end, base); }
extern "C" unsigned long __isoc23_strtoul(const char* s, char** end, int base) { return std::strtoul(s, end, base); }
namespace std { void ios_base_library_init() {} }
static std::ios_base::Init iostreamInit;
extern "C" void* napi_register_module_v1(void*, void* exports) { return exports; }
`;
const SHIM_VERSION_SCRIPT = `GLIBC_2.38 { global: __isoc23_strtol; __isoc23_strtoul; };
GLIBCXX_3.4.32 { global: _ZSt21ios_base_library_initv; };
WARREN_FUZZ_SHIM { global: napi_register_module_v1; local: *; };
`;

type DlopenModule = { exports: unknown };
const nativeDlopen = process.dlopen.bind(process);
/** process.dlopen rejects an explicit `undefined` mode, so pass it on only when given. */
const originalDlopen = (module: DlopenModule, filename: string, flags?: number): void =>
  flags === undefined ? nativeDlopen(module, filename) : nativeDlopen(module, filename, flags);

process.dlopen = (module: DlopenModule, filename: string, flags?: number): void => {
  if (!filename.endsWith(ADDON_SUFFIX)) return originalDlopen(module, filename, flags);
  try {
    originalDlopen(module, filename, flags);
  } catch (err) {
    if (!(err instanceof Error) || !/version `(GLIBC|GLIBCXX)_[0-9.]+' not found/.test(err.message)) throw err;
    loadShim();
    originalDlopen(module, patchedCopy(filename), flags);
  }
};

function loadShim(): void {
  const base = join(CACHE_DIR, `shim-${createHash('sha256').update(SHIM_SOURCE + SHIM_VERSION_SCRIPT).digest('hex').slice(0, 12)}`);
  const lib = `${base}.node`;
  if (!existsSync(lib)) {
    mkdirSync(CACHE_DIR, { recursive: true });
    writeFileSync(`${base}.cc`, SHIM_SOURCE);
    writeFileSync(`${base}.map`, SHIM_VERSION_SCRIPT);
    const r = spawnSync('g++', ['-O2', '-shared', '-fPIC', '-o', lib, `${base}.cc`, `-Wl,--version-script=${base}.map`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`jazzer-compat: g++ failed to build the glibc shim: ${r.error?.message ?? r.stderr}`);
  }
  originalDlopen({ exports: {} }, lib, constants.dlopen.RTLD_NOW | constants.dlopen.RTLD_GLOBAL);
}

function patchedCopy(original: string): string {
  const bytes = readFileSync(original);
  const out = join(CACHE_DIR, `${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}-${ADDON_SUFFIX}`);
  if (existsSync(out)) return out;
  const weakened = weakenVersionNeeds(bytes, WEAKEN_VERSIONS);
  if (weakened.length === 0) throw new Error('jazzer-compat: no version-needed entry to weaken; cannot load the addon');
  mkdirSync(CACHE_DIR, { recursive: true });
  writeFileSync(out, bytes);
  return out;
}

const SHT_GNU_VERNEED = 0x6ffffffe;
const VER_FLG_WEAK = 0x2;

/** Sets VER_FLG_WEAK on the Vernaux entries (ELF64 little-endian) naming `versions`; returns those changed. */
function weakenVersionNeeds(b: Buffer, versions: readonly string[]): string[] {
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) throw new Error('jazzer-compat: not an ELF64 LE file');
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a);
  const section = (i: number) => {
    const o = shoff + i * shentsize;
    return { type: b.readUInt32LE(o + 4), offset: Number(b.readBigUInt64LE(o + 0x18)), link: b.readUInt32LE(o + 0x28), info: b.readUInt32LE(o + 0x2c) };
  };
  const count = b.readUInt16LE(0x3c);
  const changed: string[] = [];
  for (let i = 0; i < count; i++) {
    const verneed = section(i);
    if (verneed.type !== SHT_GNU_VERNEED) continue;
    const strtab = section(verneed.link).offset;
    const name = (off: number) => b.toString('latin1', strtab + off, b.indexOf(0, strtab + off));
    let o = verneed.offset;
    for (let n = 0; n < verneed.info; n++) {
      let a = o + b.readUInt32LE(o + 8);
      for (let k = 0; k < b.readUInt16LE(o + 2); k++) {
        if (versions.includes(name(b.readUInt32LE(a + 8)))) {
          b.writeUInt16LE(b.readUInt16LE(a + 4) | VER_FLG_WEAK, a + 4);
          changed.push(name(b.readUInt32LE(a + 8)));
        }
        a += b.readUInt32LE(a + 12);
      }
      o += b.readUInt32LE(o + 12);
    }
  }
  return changed;
}
