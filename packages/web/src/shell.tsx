/**
 * The signed-in dashboard: navigation (behind a Menu button on phones), the live status, the
 * current view, and everything global — shortcuts, palette, help, the Needs you count in the tab
 * title, announcements and notifications of new needs-you items.
 */
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { signOut, type WebSession } from './api/session.ts';
import { ShortcutHelp } from './keys/help.tsx';
import { Palette, type Command } from './keys/palette.tsx';
import { useShortcuts } from './keys/shortcuts.ts';
import { stopLive, useLive } from './live/live.ts';
import { Routes } from './routes.tsx';
import { navigate, useLocation } from './router.ts';
import { Announcer } from './ui/announcer.tsx';
import { Link } from './ui/link.tsx';
import { Status } from './ui/status.tsx';
import { useNeeds } from './views/needs-you/needs.ts';
import { useNeedsAlerts } from './views/needs-you/alerts.ts';
import { Logo } from './views/signin.tsx';
import { viewOf, views } from './views.ts';

export function Shell({ session }: { session: WebSession }) {
  const client = useQueryClient();
  const { path } = useLocation();
  // The phone menu is open for the page it was opened on: a navigation closes it.
  const [menuOn, setMenuOn] = useState<string>();
  const menuOpen = menuOn === path;
  const [paletteOpen, setPaletteOpen] = useState(false);
  const [helpOpen, setHelpOpen] = useState(false);
  const needs = useNeeds();
  const current = viewOf(path);

  useNeedsAlerts(needs);

  useEffect(() => {
    const count = needs.items.length;
    document.title = `${count > 0 ? `(${count}) ` : ''}${current.name} · Gantry`;
  }, [needs.items.length, current.name]);

  const openPalette = useCallback(() => setPaletteOpen(true), []);
  const openHelp = useCallback(() => setHelpOpen(true), []);
  useShortcuts({ openPalette, openHelp });

  const doSignOut = useCallback(async () => {
    stopLive();
    await signOut(client);
    navigate('/', { replace: true });
  }, [client]);

  const actions = useMemo<Command[]>(
    () => [
      {
        id: 'assign',
        label: 'Assign work to an agent',
        hint: 'form',
        run: () => navigate('/assignments#assign'),
      },
      { id: 'message', label: 'Write a message', hint: 'composer', run: () => navigate('/messages#compose') },
      { id: 'help', label: 'Keyboard shortcuts', hint: '?', run: openHelp },
      { id: 'signout', label: 'Sign out', run: () => void doSignOut() },
    ],
    [openHelp, doSignOut],
  );

  return (
    <div className={menuOpen ? 'app menu-open' : 'app'}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button
          type="button"
          className="button menu-button"
          aria-expanded={menuOpen}
          aria-controls="nav"
          onClick={() => setMenuOn(menuOpen ? undefined : path)}
        >
          Menu
        </button>
        <Link to="/" className="brand" aria-label="Gantry, Needs you">
          <Logo />
          <span>Gantry</span>
        </Link>
        <span className="workspace" title="Workspace">
          {session.workspace.name}
        </span>
        <LiveBadge />
        <button
          type="button"
          className="button palette-button"
          onClick={openPalette}
          aria-keyshortcuts="Control+K Meta+K"
        >
          <span aria-hidden="true">⌘K</span>
          <span className="visually-hidden">Command palette</span>
        </button>
      </header>
      <nav id="nav" className="nav" aria-label="Main">
        <ul>
          {views.map((v) => (
            <li key={v.path}>
              <Link
                to={v.path}
                className="nav-link"
                aria-current={current.path === v.path ? 'page' : undefined}
                aria-keyshortcuts={`g ${v.key}`}
              >
                <span>{v.name}</span>
                {v.path === '/' && needs.items.length > 0 && (
                  <span className="count" aria-label={`${needs.items.length} waiting`}>
                    {needs.items.length}
                  </span>
                )}
              </Link>
            </li>
          ))}
        </ul>
        <div className="nav-foot">
          <p className="who">
            <span className="who-name">{session.user.name}</span>
            <span className="muted"> · {session.user.role}</span>
          </p>
          <button type="button" className="button ghost" onClick={openHelp}>
            Shortcuts <kbd aria-hidden="true">?</kbd>
          </button>
          <button type="button" className="button ghost" onClick={() => void doSignOut()}>
            Sign out
          </button>
        </div>
      </nav>
      <main id="main" className="main" tabIndex={-1}>
        <Routes path={path} />
      </main>
      <Palette open={paletteOpen} onClose={() => setPaletteOpen(false)} actions={actions} />
      <ShortcutHelp open={helpOpen} onClose={() => setHelpOpen(false)} />
      <Announcer />
    </div>
  );
}

function LiveBadge() {
  const { status } = useLive();
  const text =
    status === 'live'
      ? 'Live'
      : status === 'reconnecting'
        ? 'Reconnecting…'
        : status === 'connecting'
          ? 'Connecting…'
          : 'Signed out';
  return (
    <span
      className="live-badge"
      role="status"
      aria-live="polite"
      title="The dashboard's connection to the hub's activity stream"
    >
      <Status value={status} text={text} />
    </span>
  );
}
