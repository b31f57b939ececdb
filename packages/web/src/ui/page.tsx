/** A view's heading and its actions; the heading takes focus on navigation so screen readers follow. */
import { useEffect, useRef, type ReactNode } from 'react';

export function Page({
  title,
  subtitle,
  actions,
  children,
}: {
  title: ReactNode;
  subtitle?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    // Only after a navigation inside the app, not on first load (that would scroll on phones).
    if (document.body.dataset.navigated) heading.current?.focus({ preventScroll: true });
  }, []);
  return (
    <section className="page">
      <header className="page-head">
        <div className="page-titles">
          <h1 tabIndex={-1} ref={heading}>
            {title}
          </h1>
          {subtitle && <p className="muted page-sub">{subtitle}</p>}
        </div>
        {actions && <div className="page-actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}
