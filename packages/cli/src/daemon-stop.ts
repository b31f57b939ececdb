/**
 * How a serving gateway (`gateway start`, `up`) ends: a signal (SIGTERM, SIGINT) or a `gateway
 * stop` request through its local API (`POST /api/stop`), which may ask it to drain first.
 */
import type { Logger } from '@gantry/protocol';
import type { Gateway, StopRequest } from '@gantry/gateway';

/** A promise of the first stop request, and the callback the local API calls with one. */
export function stopRequests(): { asked: (request: StopRequest) => void; stopAsked: Promise<StopRequest> } {
  let asked: (request: StopRequest) => void = () => undefined;
  const stopAsked = new Promise<StopRequest>((resolve) => (asked = resolve));
  return { asked, stopAsked };
}

/**
 * Waits for a signal (SIGTERM, SIGINT: stop runs and hand them back) or a `gateway stop` request
 * (`--drain`: let running work finish and deliver its results first), then stops the gateway; a
 * `handover` (`gateway restart`) leaves the runs going for the next daemon process instead.
 */
export async function untilStopped(
  gateway: Gateway,
  asked: Promise<StopRequest>,
  log: Logger,
  /** From `untilSignal()`, called before the ready line is printed. */
  signal: Promise<NodeJS.Signals>,
): Promise<void> {
  const signalled = signal.then((signal) => ({ mode: 'stop' as const, signal }));
  const request = await Promise.race([signalled, asked]);
  if ('signal' in request) process.stderr.write(`gantry: ${request.signal}: stopping the gateway\n`);
  else log.info(`asked to ${request.mode}`, { timeoutMs: request.timeoutMs });
  if (request.mode === 'handover') {
    // `gateway restart`: runs go on under their supervisors and the next process takes them back.
    await gateway.handOver();
    return;
  }
  if (request.mode === 'drain') {
    const drained = await Promise.race([gateway.drain(request.timeoutMs), signalled.then(() => false)]);
    if (!drained) log.warn('the drain did not finish: stopping the work that is left and handing it back');
  }
  await gateway.stop();
}
