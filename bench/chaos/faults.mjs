// The faults of a chaos run. A killed hub or gateway is started again after a short delay with the same
// arguments, as a service manager would; a frozen one (SIGSTOP) is woken after longer than lease + grace.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Which service a fault of this kind may hit now; a gateway fault always leaves one gateway up. */
function candidates(kind, cluster) {
  if (kind.endsWith('-hub')) return cluster.hubs.filter((h) => h.state === 'up');
  const up = cluster.gateways.filter((g) => g.state === 'up');
  return cluster.gateways.length > 1 && up.length < 2 ? [] : up;
}

/** Strikes one planned fault (the first of its kinds that has a target) and heals it; returns what it did. */
export async function strike(fault, cluster, timing, startedAt) {
  // When every kind's targets are down or frozen by earlier faults, it waits for one to be back.
  for (
    let waited = 0;
    waited < 300_000 && !fault.kinds.some((k) => candidates(k, cluster).length);
    waited += 100
  )
    await sleep(100);
  const atMs = Date.now() - startedAt;
  for (const kind of fault.kinds) {
    const targets = candidates(kind, cluster);
    if (targets.length === 0) continue;
    const target = targets[Math.floor(fault.target * targets.length)];
    const t0 = Date.now();
    if (kind.startsWith('kill-')) {
      await target.kill9();
      await sleep(fault.restartDelayMs);
      await target.start();
    } else {
      target.freeze();
      await sleep(timing.leaseMs + timing.graceMs + fault.holdExtraMs);
      target.thaw();
    }
    return { kind, target: target.name, atMs, outMs: Date.now() - t0 };
  }
  return { kind: 'skipped', target: null, atMs, outMs: 0 };
}
