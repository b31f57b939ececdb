/** One doctor check: ok, warn or error, what was found, and for a warn or an error the command that fixes it. */
export interface Check {
  name: string;
  status: 'ok' | 'warn' | 'error';
  detail: string;
  fix: string | null;
}

export const ok = (name: string, detail: string): Check => ({ name, status: 'ok', detail, fix: null });
export const warn = (name: string, detail: string, fix: string): Check => ({
  name,
  status: 'warn',
  detail,
  fix,
});
export const error = (name: string, detail: string, fix: string): Check => ({
  name,
  status: 'error',
  detail,
  fix,
});
