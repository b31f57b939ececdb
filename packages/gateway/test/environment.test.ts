// What a provider process may see of the gateway's environment: the allowlist, the provider's own
// families, the binding's --env-pass names — never the gateway's tokens or anything else.
import { describe, expect, it } from 'vitest';
import { allowlistedEnv, secretEnvValues } from '../src/providers/environment.ts';
import { createProvider } from '../src/providers/registry.ts';

const gatewayEnv = {
  HOME: '/home/u',
  PATH: '/usr/bin',
  LANG: 'C.UTF-8',
  LC_ALL: 'C',
  HTTPS_PROXY: 'http://proxy:3128',
  OPENAI_API_KEY: 'sk-openai',
  CODEX_HOME: '/home/u/.codex',
  ANTHROPIC_API_KEY: 'sk-ant',
  CLAUDE_CONFIG_DIR: '/home/u/.claude',
  OLLAMA_HOST: '127.0.0.1:11434',
  GANTRY_TOKEN: 'gnt_u_secret',
  GANTRY_API_KEY: 'gnt_a_secret',
  AWS_SECRET_ACCESS_KEY: 'aws',
  GITHUB_TOKEN: 'ghp',
  MY_TOOL_CONFIG: '/etc/tool',
};

const visible = (provider: string, pass: string[] = [], bin?: string) =>
  Object.keys(
    allowlistedEnv(createProvider(provider, bin ? { bin } : {}).envFamilies, pass, gatewayEnv),
  ).sort();

describe('provider environment', () => {
  it('gives each provider the base allowlist and its own families only', () => {
    const base = ['HOME', 'HTTPS_PROXY', 'LANG', 'LC_ALL', 'PATH'];
    expect(visible('codex')).toEqual([...base, 'CODEX_HOME', 'OPENAI_API_KEY'].sort());
    expect(visible('claude-code')).toEqual([...base, 'ANTHROPIC_API_KEY', 'CLAUDE_CONFIG_DIR'].sort());
    expect(visible('ollama')).toEqual([...base, 'OLLAMA_HOST'].sort());
    expect(visible('generic')).toEqual(base);
    expect(visible('acp', [], '/opt/bin/claude-agent-acp')).toEqual(
      [...base, 'ANTHROPIC_API_KEY', 'CLAUDE_CONFIG_DIR'].sort(),
    );
    expect(visible('acp', [], '/opt/bin/my-agent')).toEqual(base);
  });

  it('adds exactly the names the binding passes, and never a GANTRY_ variable', () => {
    expect(visible('generic', ['MY_TOOL_CONFIG', 'GANTRY_TOKEN'])).toEqual(
      ['HOME', 'HTTPS_PROXY', 'LANG', 'LC_ALL', 'MY_TOOL_CONFIG', 'PATH'].sort(),
    );
    for (const provider of ['codex', 'claude-code', 'ollama', 'generic']) {
      const names = visible(provider, ['GANTRY_API_KEY']);
      expect(
        names.filter((n) => n.startsWith('GANTRY_') || n.includes('SECRET') || n === 'GITHUB_TOKEN'),
      ).toEqual([]);
    }
  });

  it('names the values a run must not show: --env-pass variables and the secret ones of its families', () => {
    const secrets = (provider: string, pass: string[] = []) =>
      secretEnvValues(createProvider(provider).envFamilies, pass, gatewayEnv).sort();
    expect(secrets('codex')).toEqual(['sk-openai']);
    expect(secrets('claude-code')).toEqual(['sk-ant']);
    expect(secrets('ollama')).toEqual([]);
    expect(secrets('generic', ['MY_TOOL_CONFIG', 'AWS_SECRET_ACCESS_KEY', 'GANTRY_TOKEN'])).toEqual(
      ['/etc/tool', 'aws'].sort(),
    );
  });
});
