// Messages through a real hub process, each measured side by side with a baseline in the same run:
//   wake-up latency: POST /v1/messages (mentioning an agent) until that agent's pending
//                    `GET /v1/inbox?wait` returns it, against the same long-poll round trip through
//                    a bare Node HTTP server that wakes a waiter from an EventEmitter (no store),
//                    in a process of its own as the hub is (bench/bare-long-poll.mjs); the same
//                    server inside the bench's own process is shown beside it
//   fan-out:         messages per second through the hub to N agents each looping on
//                    `GET /v1/inbox?wait`, every message mentioning all N, checking none is lost
//   hub CPU:         the hub process's CPU time (user + system, from /proc) per wake-up and per
//                    message fanned out, a figure the machine's load hardly moves
// Prints a table and writes bench/results/messages.json.
// Usage: node bench/messages.mjs [latency runs] [fan-out messages] [N inboxes]
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bareLongPoll } from './bare-long-poll.mjs';
import { benchHome, callJson, quantile, writeResults } from './lib.mjs';

const runs = Number(process.argv[2] ?? 300);
const fanoutMessages = Number(process.argv[3] ?? 400);
const inboxes = Number(process.argv[4] ?? 10);
const { service } = benchHome('gantry-bench-', { kill: 'SIGTERM', cleanHome: true });

const call = callJson;

const percentile = (values, p) => quantile(values, p / 100);
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

// ---- the hub --------------------------------------------------------------------------------------
const hub = await service(['hub', 'start', '--port', '0', '--json']);
const owner = hub.ownerToken;
/** CPU time (ms, user + system) the hub has used so far (Linux /proc; clock ticks of 10 ms). */
function hubCpuMs() {
  const stat = readFileSync(`/proc/${hub.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
const agents = [];
for (let i = 0; i < Math.max(inboxes, 1); i++) {
  agents.push(
    await call(`${hub.url}/v1/agents`, owner, {
      method: 'POST',
      body: JSON.stringify({ name: `reader-${i}`, kind: 'pass_through' }),
    }),
  );
}
const inbox = (agent, waitMs) => call(`${hub.url}/v1/inbox?wait=${waitMs}&markRead=true`, agent.key);
const send = (body, to) =>
  call(`${hub.url}/v1/messages`, owner, { method: 'POST', body: JSON.stringify({ body, to }) });

// ---- the baselines: a bare long-poll server -----------------------------------------------------
// In a process of its own, as the hub is: each wake-up crosses processes as the hub's does (on this
// VM a cross-process wake costs what much of the hub's own work does). The one inside this bench's
// process is shown too: its send and its answer never leave the process that waits for them.
const bareChild = fork(fileURLToPath(new URL('./bare-long-poll.mjs', import.meta.url)));
const bareUrl = await new Promise((resolve, reject) => {
  bareChild.once('message', resolve);
  bareChild.once('exit', (code) => reject(new Error(`the bare long-poll server ended (${code})`)));
});
const inProcess = await bareLongPoll();

/** Starts a waiter, lets it block, then sends; returns ms from the send until the waiter has the message. */
async function wakeup(wait, post) {
  const waiting = wait();
  await new Promise((resolve) => setTimeout(resolve, 5)); // the wait is parked on the server
  const t0 = process.hrtime.bigint();
  await Promise.all([post(), waiting]);
  return ms(t0);
}

const latency = { hub: [], baseline: [], inProcess: [] };
const reader = agents[0];
let latencyCpu = 0;
for (let i = 0; i < runs + 20; i++) {
  const keep = i >= 20; // warm-up
  const cpu0 = hubCpuMs();
  const hubMs = await wakeup(
    async () => {
      const got = await inbox(reader, 30_000);
      if (got.messages.length !== 1) throw new Error(`expected one message, got ${got.messages.length}`);
    },
    () => send(`ping ${i}`, [reader.name]),
  );
  const bare = (url) =>
    wakeup(
      () => fetch(`${url}/wait`).then((r) => r.json()),
      () => fetch(`${url}/send`, { method: 'POST', body: JSON.stringify({ body: `ping ${i}` }) }),
    );
  const baseMs = await bare(bareUrl);
  const inProcessMs = await bare(inProcess.url);
  if (keep) {
    latencyCpu += hubCpuMs() - cpu0;
    latency.hub.push(hubMs);
    latency.baseline.push(baseMs);
    latency.inProcess.push(inProcessMs);
  }
}
bareChild.disconnect();
inProcess.close();

// ---- fan-out ---------------------------------------------------------------------------------------
const readers = agents.slice(0, inboxes);
const received = new Map(readers.map((a) => [a.id, 0]));
let sending = true;
const fanoutCpu0 = hubCpuMs();
// A reader stops once it has every message (or, if any were lost, once a wait after the sending finds none).
const loops = readers.map(async (agent) => {
  while (received.get(agent.id) < fanoutMessages) {
    const got = await inbox(agent, 2_000);
    received.set(agent.id, received.get(agent.id) + got.messages.length);
    if (!sending && got.timedOut) break;
  }
});
const names = readers.map((a) => a.name);
const t0 = process.hrtime.bigint();
const senders = 4;
await Promise.all(
  Array.from({ length: senders }, async (_, s) => {
    for (let i = s; i < fanoutMessages; i += senders) await send(`fan ${i}`, names);
  }),
);
const sentMs = ms(t0);
sending = false;
await Promise.all(loops);
const deliveredMs = ms(t0);
const fanoutCpu = hubCpuMs() - fanoutCpu0;
const lost = readers.filter((a) => received.get(a.id) !== fanoutMessages);
if (lost.length > 0)
  throw new Error(`lost mail: ${lost.map((a) => `${a.name} got ${received.get(a.id)}`).join(', ')}`);

// ---- report ----------------------------------------------------------------------------------------
const row = (name, values) => ({ name, p50: percentile(values, 50), p99: percentile(values, 99) });
const results = {
  latency: [
    row('hub: send -> inbox --wait returns', latency.hub),
    row('baseline: bare long-poll', latency.baseline),
    row('bare long-poll in the bench process', latency.inProcess),
  ],
  fanout: {
    inboxes,
    messages: fanoutMessages,
    senders,
    messagesPerSecond: Math.round(fanoutMessages / (deliveredMs / 1000)),
    deliveriesPerSecond: Math.round((fanoutMessages * inboxes) / (deliveredMs / 1000)),
    sendSeconds: sentMs / 1000,
    lost: 0,
  },
  hubCpuMs: {
    perWakeup: latencyCpu / runs,
    perFanoutMessage: fanoutCpu / fanoutMessages,
    perDelivery: fanoutCpu / (fanoutMessages * inboxes),
  },
};
const [hubRow, baseRow, inProcessRow] = results.latency;
results.vsBaseline = +(hubRow.p50 / baseRow.p50).toFixed(2);
results.vsInProcess = +(hubRow.p50 / inProcessRow.p50).toFixed(2);
console.log(
  `messages (${runs} wake-ups each, alternating; fan-out ${fanoutMessages} messages to ${inboxes} waiting inboxes)`,
);
console.log('measure                               p50 ms    p99 ms');
for (const r of results.latency)
  console.log(`${r.name.padEnd(36)} ${r.p50.toFixed(2).padStart(7)} ${r.p99.toFixed(2).padStart(9)}`);
console.log(`hub x baseline (p50)                  ${results.vsBaseline.toFixed(2).padStart(7)}`);
console.log(`hub x the one in the bench process    ${results.vsInProcess.toFixed(2).padStart(7)}`);
console.log(
  `fan-out: ${results.fanout.messagesPerSecond} messages/s = ${results.fanout.deliveriesPerSecond} deliveries/s to ${inboxes} inboxes (${senders} senders, none lost)`,
);
const cpu = results.hubCpuMs;
console.log(
  `hub CPU: ${cpu.perWakeup.toFixed(2)} ms per wake-up (the wait, the send, the woken answer); ${cpu.perFanoutMessage.toFixed(2)} ms per fanned-out message (${cpu.perDelivery.toFixed(2)} per delivery)`,
);
console.log(`wrote ${writeResults('messages', results)}`);
process.exit(0);
