// The provider contract for ollama: Ollama's streaming chat API (a fake on loopback), with the
// gateway's own shell tool allowed by the binding's --permission allow.
import { startOllamaChat } from '../fake-models/ollama-chat.ts';
import { providerContract } from './contract.ts';

providerContract({
  provider: 'ollama',
  startFake: startOllamaChat,
  flags: (fake) => ['--ollama-url', fake.url, '--ollama-model', 'qwen-test', '--permission', 'allow'],
  env: (_fake, home) => ({ HOME: home }),
  streamsInProcess: false,
});
