/**
 * Follows one assignment's run live over `GET /v1/assignments/:id/events` (SSE): its events, and
 * its state changes written straight into the query cache. Resumes by `attempt:seq` after a drop
 * and stops at the run's end.
 */
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import type { Assignment, AssignmentEvent } from '@gantry/protocol';
import { segment } from '../../api/client.ts';
import { keys } from '../../api/resources.ts';
import { readSse, SseRefused } from '../../live/sse.ts';

export interface RunStream {
  events: AssignmentEvent[];
  /** True once the run has ended and every event is here. */
  ended: boolean;
  reconnecting: boolean;
}

export function useRunStream(id: string): RunStream {
  const client = useQueryClient();
  const [run, setRun] = useState<RunStream>({ events: [], ended: false, reconnecting: false });

  useEffect(() => {
    const controller = new AbortController();
    let lastEventId: string | undefined;
    let ended = false;
    let pending: AssignmentEvent[] = [];
    let frame = 0;
    // Events of one burst render together, once per frame.
    const flush = () => {
      frame = 0;
      const batch = pending;
      pending = [];
      setRun((r) => ({ ...r, events: [...r.events, ...batch], reconnecting: false }));
    };
    const loop = async () => {
      for (let failures = 0; !ended && !controller.signal.aborted; failures++) {
        try {
          await readSse(`/v1/assignments/${segment(id)}/events`, {
            lastEventId,
            signal: controller.signal,
            onOpen: () => setRun((r) => (r.reconnecting ? { ...r, reconnecting: false } : r)),
            onEvent: (message) => {
              if (message.event === 'event') {
                lastEventId = message.id;
                pending.push(JSON.parse(message.data) as AssignmentEvent);
                if (!frame) frame = requestAnimationFrame(flush);
              } else if (message.event === 'state' || message.event === 'end') {
                client.setQueryData(keys.assignment(id), JSON.parse(message.data) as Assignment);
                if (message.event === 'end') ended = true;
              }
            },
          });
          if (!ended) failures = 0;
        } catch (err) {
          if (controller.signal.aborted) return;
          if (err instanceof SseRefused && err.status >= 400 && err.status < 500) return;
        }
        if (ended || controller.signal.aborted) break;
        setRun((r) => ({ ...r, reconnecting: true }));
        await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 1000 * 2 ** failures)));
      }
      if (frame) cancelAnimationFrame(frame);
      flush();
      setRun((r) => ({ ...r, ended: true, reconnecting: false }));
    };
    void loop();
    return () => {
      controller.abort();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [id, client]);

  return run;
}
