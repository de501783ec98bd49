/** A small seeded generator (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed from `variable` when set (a replay), else a fresh one. */
export function seedFrom(variable: string): number {
  const given = process.env[variable];
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isInteger(seed) || seed < 0) throw new Error(`${variable}=${given} is not a non-negative integer`);
    return seed;
  }
  return Date.now() % 1_000_000;
}

/** Sizes drawn in this process so far: a test that wants content no other test uploads gets it. */
const drawnSizes = new Set<number>();

/**
 * The random choices of one test file, from a generator seeded from `variable` (TEST_SEED
 * unless told): set it to replay a run. The seed is printed when a test of the calling
 * `describe` fails (call it inside one: it adds an afterEach hook there). `label` keeps
 * files apart: the same seed gives each file a sequence of its own.
 */
export function seededChoices(label: string, variable = 'TEST_SEED') {
  const seed = seedFrom(variable);
  const replay = `replay: ${variable}=${seed}`;
  let salt = 0;
  for (const char of label) salt = (Math.imul(salt, 31) + char.charCodeAt(0)) >>> 0;
  const next = seededRandom((seed ^ salt) >>> 0);
  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      process.stdout.write(`      ${label}: random choices seeded with ${seed} (${replay})\n`);
  });
  return {
    seed,
    replay,
    next,
    /** An integer in [min, min + span). */
    int: (min: number, span: number) => min + Math.floor(next() * span),
    /** A size in [min, min + span) that no other draw of this process returned: content of its own. */
    distinctSize(min: number, span: number): number {
      for (let tries = 0; tries < 1000; tries++) {
        const size = min + Math.floor(next() * span);
        if (!drawnSizes.has(size)) {
          drawnSizes.add(size);
          return size;
        }
      }
      throw new Error(`no size left in [${min}, ${min + span}) (${replay})`);
    },
  };
}
