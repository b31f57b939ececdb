// The provider contract for claude-code: the real `claude -p --output-format stream-json` against a
// fake Anthropic Messages API; Bash is allowed through the binding's --allowed-tools.
import { claudeEnvFor, startAnthropicMessages } from '../fake-models/anthropic-messages.ts';
import { providerContract } from './contract.ts';

providerContract({
  provider: 'claude-code',
  startFake: startAnthropicMessages,
  flags: () => ['--claude-bin', process.env.GANTRY_TEST_CLAUDE_BIN ?? 'claude', '--allowed-tools', 'Bash'],
  env: (fake, home) => claudeEnvFor(fake, home),
});
