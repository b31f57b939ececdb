// A bare Node long-poll server, the baseline of bench/messages.mjs: a GET waits until a POST's body
// wakes it from an EventEmitter (no store, no auth, no validation). Imported, it serves in the
// caller's process; run (forked), it serves in a process of its own, as a hub does, tells its parent
// its port and ends when its parent does.
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';

export async function bareLongPoll() {
  const wake = new EventEmitter();
  wake.setMaxListeners(0);
  const server = createServer((req, res) => {
    if (req.method === 'GET') {
      wake.once('message', (message) => res.end(JSON.stringify({ messages: [message] })));
      return;
    }
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      wake.emit('message', JSON.parse(body));
      res.end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

if (process.send) {
  const { url } = await bareLongPoll();
  process.send(url);
  process.on('disconnect', () => process.exit(0));
}
