// The provider contract for codex: the real `codex exec --json` against a fake OpenAI Responses API.
import { join } from 'node:path';
import { codexHomeFor, startOpenAiResponses } from '../fake-models/openai-responses.ts';
import { providerContract } from './contract.ts';

providerContract({
  provider: 'codex',
  startFake: startOpenAiResponses,
  flags: () => ['--codex-bin', process.env.GANTRY_TEST_CODEX_BIN ?? 'codex'],
  env: (fake, home) => ({ HOME: home, ...codexHomeFor(fake, join(home, 'codex')) }),
});
