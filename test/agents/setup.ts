/**
 * Vitest global setup: installs the real agent CLIs once (into a cache outside the checkout) and
 * hands their paths to the tests as GANTRY_TEST_CODEX_BIN, GANTRY_TEST_CLAUDE_BIN and
 * GANTRY_TEST_CLAUDE_ACP_BIN.
 */
// @ts-expect-error: a plain ES module script without types
import { installTestAgents } from '../../scripts/test-agents.mjs';

export default function setup(): void {
  const agents = installTestAgents() as { codex: string; claude: string; claudeAcp: string };
  process.env.GANTRY_TEST_CODEX_BIN = agents.codex;
  process.env.GANTRY_TEST_CLAUDE_BIN = agents.claude;
  process.env.GANTRY_TEST_CLAUDE_ACP_BIN = agents.claudeAcp;
}
