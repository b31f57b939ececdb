// The chaos run's options (`npm run chaos -- --help`), and the seeded random numbers that make its plan
// reproducible: the same seed gives the same assignments, faults, targets and cancels.
import { parseArgs } from 'node:util';

export const faultKinds = ['kill-hub', 'kill-gateway', 'stop-gateway', 'stop-hub'];

const usage = `npm run chaos -- [options]
  --hubs N             hubs of one system (N > 1 needs --store postgres)        default 1
  --store S            sqlite | postgres (a fresh database, dropped after)      default sqlite
  --assignments N      assignments dispatched while faults are injected         default 100
  --faults N           faults injected                                          default 20
  --kinds LIST         fault kinds, comma-separated: ${faultKinds.join(', ')}
                                                                                default all
  --cancels N          assignments a person cancels                             default assignments/25 + 1
  --gateways N         gateway processes (each serves every agent)              default 4
  --agents N           agents                                                   default 4
  --concurrency N      runs at once per gateway                                 default 4
  --retries N          retries per assignment                                   default 3
  --lease MS           the hubs' lease (heartbeat lease/4, grace lease/2)       default 2000
  --gateway-urls M     all (--hub URL1,URL2: a gateway moves on when its hub dies) | one
                       (each gateway gets one hub's URL)                        default all
  --seed N             the plan's random seed                                   default random
  --out FILE           JSON results                                             default bench/results/chaos-<store>.json
  --keep               keep the temporary folder (logs) and the database`;

export function readOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        hubs: { type: 'string', default: '1' },
        store: { type: 'string', default: 'sqlite' },
        assignments: { type: 'string', default: '100' },
        faults: { type: 'string', default: '20' },
        kinds: { type: 'string', default: faultKinds.join(',') },
        cancels: { type: 'string' },
        gateways: { type: 'string', default: '4' },
        agents: { type: 'string', default: '4' },
        concurrency: { type: 'string', default: '4' },
        retries: { type: 'string', default: '3' },
        lease: { type: 'string', default: '2000' },
        'gateway-urls': { type: 'string', default: 'all' },
        seed: { type: 'string' },
        out: { type: 'string' },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    fail(err.message.replace(/\.?\s*To specify a positional.*$/s, ''));
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const int = (name, min) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) fail(`--${name} must be a whole number of at least ${min}`);
    return n;
  };
  const options = {
    hubs: int('hubs', 1),
    store: values.store,
    assignments: int('assignments', 1),
    faults: int('faults', 0),
    kinds: values.kinds.split(',').filter(Boolean),
    cancels:
      values.cancels === undefined ? Math.floor(Number(values.assignments) / 25) + 1 : int('cancels', 0),
    gateways: int('gateways', 1),
    agents: int('agents', 1),
    concurrency: int('concurrency', 1),
    retries: int('retries', 0),
    leaseMs: int('lease', 200),
    gatewayUrls: values['gateway-urls'],
    seed: values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : int('seed', 0),
    out: values.out,
    keep: values.keep,
  };
  if (!['sqlite', 'postgres'].includes(options.store)) fail('--store must be sqlite or postgres');
  if (options.hubs > 1 && options.store !== 'postgres') fail('--hubs above 1 needs --store postgres');
  if (!['one', 'all'].includes(options.gatewayUrls)) fail('--gateway-urls must be one or all');
  for (const kind of options.kinds) if (!faultKinds.includes(kind)) fail(`unknown fault kind: ${kind}`);
  if (options.faults > 0 && options.kinds.length === 0) fail('--kinds is empty');
  return options;
}

function fail(message) {
  console.error(`chaos: ${message} (npm run chaos -- --help lists the options)`);
  process.exit(2);
}

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function seededRandom(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
  };
}
