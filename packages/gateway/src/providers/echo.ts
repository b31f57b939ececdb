/** The built-in `echo` provider: answers `echo: <prompt>`. For trying Gantry out and for tests. */
import type { Provider, RunOutcome, RunRequest } from './provider.ts';

export const echoProvider: Provider = {
  name: 'echo',
  envFamilies: [],
  check: () => Promise.resolve({ ok: true, detail: 'built in' }),
  run(request: RunRequest): Promise<RunOutcome> {
    const output = `echo: ${request.assignment.prompt}`;
    request.emit('message', { text: output });
    return Promise.resolve({ status: 'succeeded', output, exitCode: 0 });
  },
};
