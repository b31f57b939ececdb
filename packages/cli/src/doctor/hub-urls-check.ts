/**
 * A gateway given several URLs of one hub system (`--hub URL1,URL2`): each should answer as that
 * system, or failing over to it does not work. One that does not answer is a warning while another
 * does; one that answers as another system, or none answering, is an error.
 */
import { error, ok, warn, type Check } from './check.ts';
import { fetchWithin } from '../fetch-within.ts';

type Answer = { url: string; hubId?: string; problem?: string };

async function ask(url: string): Promise<Answer> {
  try {
    const response = await fetchWithin(`${url}/v1/health`, 5000);
    const body = (await response.json().catch(() => undefined)) as { hubId?: unknown } | undefined;
    if (!response.ok) return { url, problem: `answers HTTP ${response.status}` };
    return typeof body?.hubId === 'string' ? { url, hubId: body.hubId } : { url, problem: 'names no hubId' };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    return { url, problem: `does not answer (${cause})` };
  }
}

export async function hubUrlsCheck(urls: string[], hubId: string | undefined): Promise<Check | undefined> {
  if (urls.length < 2) return undefined;
  const name = 'hub urls';
  const answers = await Promise.all(urls.map(ask));
  const others = answers.filter((a) => a.hubId && hubId && a.hubId !== hubId);
  const good = answers.filter((a) => a.hubId && (!hubId || a.hubId === hubId));
  const down = answers.filter((a) => a.problem);
  const keep = `gantry gateway connect --hub ${(good.length ? good : answers.filter((a) => !others.includes(a))).map((a) => a.url).join(',')}`;
  if (others.length)
    return error(
      name,
      others.map((a) => `${a.url} answers as hub system ${a.hubId}, not ${hubId}`).join('; '),
      `give only URLs of this hub system: ${keep}`,
    );
  if (good.length === 0)
    return error(
      name,
      `none of the ${urls.length} URLs answers: ${down.map((a) => `${a.url} ${a.problem}`).join('; ')}`,
      'start a hub of this system (gantry hub start --db postgres://...), or connect to where one runs',
    );
  if (down.length)
    return warn(
      name,
      `${down.map((a) => `${a.url} ${a.problem}`).join('; ')}: the gateway cannot move there while so (${good.length} of ${urls.length} answer)`,
      `start that hub, or leave its URL out: ${keep}`,
    );
  return ok(name, `all ${urls.length} URLs answer as hub system ${good[0]?.hubId ?? 'unknown'}`);
}
