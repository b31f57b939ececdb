// `gantry doctor` / `gateway doctor` / `hub doctor`: each problem a user can have — the local API
// port taken by another program, a loose state folder, a provider binary missing, a hub port taken
// — is an error with the command that fixes it, exit 1; and the doctor changes nothing.
import { chmodSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectArgs, createAgent, startHub, type HubReady } from '../fixtures.ts';
import { Sandbox } from '../harness.ts';

interface Check {
  name: string;
  status: 'ok' | 'warn' | 'error';
  detail: string;
  fix: string | null;
}

function listen(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    // Another program: it accepts and hangs up, answering nothing.
    const server = createServer((socket) => socket.destroy());
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
  });
}

describe('gantry doctor', () => {
  const hubBox = new Sandbox();
  const box = new Sandbox();
  let hub: HubReady;
  let blocker: { server: Server; port: number };

  const doctor = async (args: string[]) => {
    const ran = await box.run([...args, '--json']);
    const { checks } = JSON.parse(ran.stdout) as { checks: Check[] };
    for (const check of checks) {
      expect(Object.keys(check).sort()).toEqual(['detail', 'fix', 'name', 'status']);
      if (check.status !== 'ok') expect(check.fix, check.name).toMatch(/\S/);
    }
    return { code: ran.code, checks, find: (name: string) => checks.find((c) => c.name === name) };
  };

  beforeAll(async () => {
    hub = (await startHub(hubBox)).ready;
    const { key } = await createAgent(hubBox, 'builder');
    // The generic provider's command is missing on this machine: connect warns and saves it anyway.
    const connected = await box.run(connectArgs(hub.url, key, 'generic', '/nonexistent/bin/agent-cli'));
    expect(connected.code).toBe(0);
    blocker = await listen();
  });
  afterAll(async () => {
    blocker.server.close();
    await box.cleanup();
    await hubBox.cleanup();
  });

  it('checks the hub, the token and the clock of a connected gateway', async () => {
    const { find } = await doctor(['gateway', 'doctor', '--port', '0']);
    expect(find('node')?.status).toBe('ok');
    expect(find('hub url')).toMatchObject({ status: 'ok', detail: hub.url });
    expect(find('hub reachable')?.status).toBe('ok');
    expect(find('gateway token')).toMatchObject({ status: 'ok', detail: 'the hub accepts it' });
    expect(find('clock')?.status).toBe('ok');
    expect(find('gateway database')?.status).toBe('ok');
  });

  it('reports a missing provider binary with the command that fixes it', async () => {
    const { code, find } = await doctor(['gateway', 'doctor', '--port', '0']);
    expect(code).toBe(1);
    const provider = find('provider builder');
    expect(provider?.status).toBe('error');
    expect(provider?.detail).toContain('/nonexistent/bin/agent-cli');
    expect(provider?.fix).toContain('gantry gateway bind --agent builder --provider-bin PATH');
  });

  it('reports the local API port taken by another process, with another port to use', async () => {
    const { code, find } = await doctor(['gateway', 'doctor', '--port', String(blocker.port)]);
    expect(code).toBe(1);
    const port = find('local API port');
    expect(port?.status).toBe('error');
    expect(port?.detail).toMatch(new RegExp(`^${blocker.port} is taken by .*not this gateway$`));
    expect(port?.fix).toContain(`gantry gateway start --port ${blocker.port + 1}`);
    // `gantry doctor` takes --port the same way, and a free port is fine.
    const free = await doctor(['doctor', '--port', '0', '--hub-port', '0']);
    expect(free.find('local API port')?.status).toBe('ok');
    expect(free.find('hub database')?.status).toBe('ok');
  });

  it('reports a hub port taken by something that is not a hub, and one a hub holds as fine', async () => {
    const taken = await doctor(['hub', 'doctor', '--port', String(blocker.port)]);
    expect(taken.code).toBe(1);
    expect(taken.find('hub port')).toMatchObject({
      status: 'error',
      fix: `stop that process, or start the hub on another port: gantry hub start --port ${blocker.port + 1}`,
    });
    const held = await doctor(['hub', 'doctor', '--port', new URL(hub.url).port]);
    expect(held.find('hub port')?.detail).toContain('a Gantry hub answers there');
  });

  it('says where the running gateway listens when the port it checks is another', async () => {
    const gateway = box.start(['gateway', 'start', '--port', '0', '--json']);
    await gateway.ready();
    try {
      const { find } = await doctor(['gateway', 'doctor', '--port', '0']);
      expect(find('local API port')?.detail).toMatch(
        new RegExp(`^port 0: a free port is picked at start; this gateway runs on \\d+ \\(pid \\d+\\)$`),
      );
    } finally {
      await gateway.stop();
    }
  });

  it('reports a loose state folder with its chmod, and leaves it loose', async () => {
    const data = join(box.home, 'data');
    chmodSync(data, 0o755);
    try {
      const { code, find } = await doctor(['gateway', 'doctor', '--port', '0']);
      expect(code).toBe(1);
      expect(find(`private ${data}`)).toMatchObject({ status: 'error', fix: `chmod 0700 ${data}` });
      expect(statSync(data).mode & 0o777).toBe(0o755);
      const text = await box.run(['gateway', 'doctor', '--port', '0']);
      expect(text.code).toBe(1);
      expect(text.stdout).toContain(`private ${data}: chmod 0700 ${data}`);
    } finally {
      chmodSync(data, 0o700);
    }
  });
});
