/** Messages grouped into threads, newest activity first, with unread counts. */
import type { Message } from '@gantry/protocol';

export interface Thread {
  id: string;
  first: Message;
  last: Message;
  count: number;
  unread: number;
  /** Everyone who wrote in it or was addressed. */
  people: string[];
}

export function threadsOf(messages: Message[]): Thread[] {
  const byThread = new Map<string, Message[]>();
  for (const m of messages) {
    const list = byThread.get(m.threadId);
    if (list) list.push(m);
    else byThread.set(m.threadId, [m]);
  }
  const threads: Thread[] = [];
  for (const [id, list] of byThread) {
    list.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const first = list[0] as Message;
    const last = list[list.length - 1] as Message;
    const people = new Set<string>();
    for (const m of list) {
      people.add(m.author.name);
      for (const p of m.mentions) people.add(p.name);
    }
    threads.push({
      id,
      first,
      last,
      count: list.length,
      unread: list.filter((m) => m.read === false).length,
      people: [...people],
    });
  }
  return threads.sort((a, b) => b.last.createdAt.localeCompare(a.last.createdAt));
}
