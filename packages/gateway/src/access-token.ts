/**
 * The gateway's short-lived access token (DESIGN §5): its long-lived gateway token travels only on
 * `POST /v1/auth/exchange`, and the WebSocket hello carries the JWT it returns, renewed when less
 * than a minute is left. A hub without the exchange route (older), or one that cannot be reached
 * for it, gets the long-lived token in the hello as before: the hello's own answer says what is wrong.
 * It is asked of the hub the gateway is about to connect to; every hub of one system signs with the
 * same key (kept in the store), so a token from one is good at the others.
 */
import { accessTokenSchema, type Logger } from '@gantry/protocol';

const renewBeforeMs = 60_000;

export class AccessToken {
  private cached: { token: string; expiresAt: number } | undefined;

  constructor(
    private readonly longLived: string,
    private readonly log: Logger,
  ) {}

  async get(serverUrl: string): Promise<string> {
    if (this.cached && this.cached.expiresAt - Date.now() > renewBeforeMs) return this.cached.token;
    try {
      const response = await fetch(new URL('/v1/auth/exchange', serverUrl), {
        method: 'POST',
        headers: { authorization: `Bearer ${this.longLived}` },
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) {
        this.log.debug('no access token from the hub; the hello carries the gateway token', {
          status: response.status,
        });
        return this.longLived;
      }
      const body = accessTokenSchema.parse(await response.json());
      this.cached = { token: body.accessToken, expiresAt: body.expiresAt };
      return body.accessToken;
    } catch (err) {
      this.log.debug('token exchange failed; the hello carries the gateway token', {
        error: (err as Error).message,
      });
      return this.longLived;
    }
  }
}
