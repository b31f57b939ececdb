/**
 * `fetch` that gives up after `ms`. `AbortSignal.timeout` alone is not enough for a command: its
 * timer does not keep the process alive, so a request to a peer that never answers (a hung
 * gateway, a program that accepts and hangs up) could let Node exit mid-check. This timer does.
 */
export async function fetchWithin(url: string, ms: number, init: RequestInit = {}): Promise<Response> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`no answer in ${ms} ms`, 'TimeoutError')),
    ms,
  );
  try {
    return await fetch(url, { ...init, signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}
