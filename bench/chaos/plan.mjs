// What a chaos run will do, drawn in advance from its seed: when each assignment is created and how long
// it runs, when each fault strikes and how long it lasts, and which assignments a person cancels.
import { seededRandom } from './options.mjs';

const pauses = ['0.02', '0.05', '0.1'];

export function makePlan(options) {
  const rand = seededRandom(options.seed);
  const durationMs = Math.max(8000, options.faults * 1000 + 2000);
  const assignments = Array.from({ length: options.assignments }, (_, i) => ({
    n: i,
    agent: `chaos-${rand.int(0, options.agents - 1)}`,
    lines: rand.int(3, 25),
    pause: rand.pick(pauses),
    atMs: Math.round(rand.next() * (durationMs - 1500)),
  })).sort((a, b) => a.atMs - b.atMs);
  // Faults come at a steady pace with some jitter, so they overlap each other now and then.
  const spacing = (durationMs - 1000) / Math.max(1, options.faults);
  const faults = Array.from({ length: options.faults }, (_, i) => ({
    atMs: Math.round(500 + i * spacing + rand.next() * spacing * 0.8),
    kinds: shuffle(options.kinds, rand),
    target: rand.next(),
    restartDelayMs: rand.int(200, 1500),
    holdExtraMs: rand.int(300, 2000),
  }));
  const cancels = Array.from({ length: Math.min(options.cancels, options.assignments) }, () => {
    const target = assignments[rand.int(0, assignments.length - 1)];
    return { n: target.n, atMs: target.atMs + rand.int(100, 1500) };
  });
  return { durationMs, assignments, faults, cancels };
}

function shuffle(list, rand) {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rand.int(0, i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export const promptOf = (a) => `chaos ${a.n} lines=${a.lines} pause=${a.pause}`;

/** The plan's entry for a prompt (also for a twin made by a retried POST). */
export function parsePrompt(prompt) {
  const m = /^chaos (\d+) lines=(\d+) pause=([\d.]+)$/.exec(prompt);
  return m ? { n: Number(m[1]), lines: Number(m[2]) } : undefined;
}

/**
 * Runs the plan's steps at their times on a clock that stands still while `maxHealing` faults are
 * still healing: on a loaded machine a restart can take many seconds, and faults piling up on a
 * system that is still down would test nothing but the wait. Assignments keep flowing meanwhile.
 */
export class PlanClock {
  constructor(maxHealing = 2) {
    this.maxHealing = maxHealing;
    this.healing = 0;
    this.steps = [];
    this.nowMs = 0;
  }

  at(atMs, fn, { fault = false } = {}) {
    this.steps.push({ atMs, fn, fault });
  }

  async run() {
    const steps = [...this.steps].sort((a, b) => a.atMs - b.atMs);
    const running = [];
    let last = Date.now();
    while (steps.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const now = Date.now();
      if (this.healing < this.maxHealing) this.nowMs += now - last;
      last = now;
      while (steps.length > 0 && steps[0].atMs <= this.nowMs) {
        const step = steps.shift();
        if (step.fault) {
          if (this.healing >= this.maxHealing) {
            steps.unshift(step);
            break;
          }
          this.healing += 1;
          running.push(step.fn().finally(() => (this.healing -= 1)));
        } else running.push(step.fn());
      }
    }
    await Promise.all(running);
  }
}
