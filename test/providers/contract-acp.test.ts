// The provider contract for acp: the real Claude ACP adapter (claude-agent-acp) over stdio against a
// fake Anthropic Messages API; its permission requests are allowed by the binding's --permission allow.
import { claudeEnvFor, startAnthropicMessages } from '../fake-models/anthropic-messages.ts';
import { providerContract } from './contract.ts';

providerContract({
  provider: 'acp',
  startFake: startAnthropicMessages,
  flags: () => [
    '--provider-bin',
    process.env.GANTRY_TEST_CLAUDE_ACP_BIN ?? 'claude-agent-acp',
    '--permission',
    'allow',
  ],
  env: (fake, home) => claudeEnvFor(fake, home),
});
