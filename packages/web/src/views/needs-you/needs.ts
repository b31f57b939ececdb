/**
 * Needs you: everything waiting on a person, oldest first. Each kind of item comes from a source
 * (a hook turning hub data into items); a new kind is one more source added to `useNeeds`, and the
 * view renders it unchanged.
 */
import type { ReactNode } from 'react';
import { useApprovalNeeds } from './approval-needs.tsx';
import { useChainNeeds } from './chain-needs.tsx';
import { useFailedRunNeeds } from './failed-run-needs.tsx';

export interface NeedAction {
  label: string;
  tone: 'primary' | 'danger' | 'plain';
  /** `a` runs the approve-like action, `d` the deny-like one. */
  shortcut?: 'a' | 'd';
  run(): Promise<unknown>;
}

export interface NeedItem {
  /** Unique across kinds, e.g. `approval:apv_...`. */
  id: string;
  kind: string;
  /** What kind of thing waits, for people: "Folder approval". */
  kindLabel: string;
  createdAt: string;
  /** The agent the item is for. */
  agent: { id: string; name: string };
  /** One line saying what is asked or what happened. */
  title: string;
  /** Label/value rows shown under the title. */
  details: { label: string; value: ReactNode }[];
  /** A command, input or diff to show as text. */
  code?: string;
  /** Where Enter (or the title) leads, if anywhere. */
  href?: string;
  actions: NeedAction[];
}

export interface Needs {
  items: NeedItem[];
  loading: boolean;
  errors: unknown[];
}

export function useNeeds(): Needs {
  const sources = [useApprovalNeeds(), useChainNeeds(), useFailedRunNeeds()];
  const items = sources.flatMap((s) => s.items).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  return {
    items,
    loading: sources.some((s) => s.loading),
    errors: sources.flatMap((s) => (s.error ? [s.error] : [])),
  };
}

export interface NeedSource {
  items: NeedItem[];
  loading: boolean;
  error: unknown;
}
