/** The navigation: each view, its path and its `g` shortcut (named exactly as the issue says). */
export interface ViewInfo {
  name: string;
  path: string;
  /** `g` then this key goes there. */
  key: string;
}

export const views: ViewInfo[] = [
  { name: 'Needs you', path: '/', key: 'n' },
  { name: 'Agents', path: '/agents', key: 'a' },
  { name: 'Assignments', path: '/assignments', key: 's' },
  { name: 'Messages', path: '/messages', key: 'm' },
  { name: 'Tasks', path: '/tasks', key: 't' },
  { name: 'Context', path: '/context', key: 'c' },
  { name: 'Activity', path: '/activity', key: 'v' },
  { name: 'Settings', path: '/settings', key: ',' },
];

/** The view a path belongs to (`/agents/scout` is in Agents). */
export function viewOf(path: string): ViewInfo {
  return (
    views.find((v) => v.path !== '/' && (path === v.path || path.startsWith(`${v.path}/`))) ??
    (views[0] as ViewInfo)
  );
}
