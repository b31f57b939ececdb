// The secret masker (issue 10, item 6): every well-known key shape, known values, tokens glued to a
// word, private key blocks whole or line by line, and ordinary text left as it is.
import { describe, expect, it } from 'vitest';
import { redact, redactDeep, Redactor } from '../src/redact.ts';

/** Random-looking key material of a given length (made here, so no real key sits in the source). */
const noise = (length: number, alphabet = 'aZ3xQ9mK2pL7vB4n') =>
  Array.from({ length }, (_, i) => alphabet[(i * 7 + 3) % alphabet.length]).join('');

const gantry = `gnt_u_tok_0123456789abcd.${noise(43)}`;
const jwt = `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3JfMSJ9.${noise(43)}`;

const shapes: Record<string, { secret: string; masked: string }> = {
  'a Gantry token': { secret: gantry, masked: 'gnt_u_tok_0123456789abcd.[redacted]' },
  'a JWT': { secret: jwt, masked: '[redacted jwt]' },
  'an OpenAI key': { secret: `sk-${noise(48)}`, masked: 'sk-[redacted]' },
  'an OpenAI project key': { secret: `sk-proj-${noise(100)}`, masked: 'sk-[redacted]' },
  'an Anthropic key': { secret: `sk-ant-api03-${noise(93)}-${noise(6)}AA`, masked: 'sk-ant-[redacted]' },
  'a GitHub personal token': { secret: `ghp_${noise(36)}`, masked: 'ghp_[redacted]' },
  'a GitHub OAuth token': { secret: `gho_${noise(36)}`, masked: 'gho_[redacted]' },
  'a GitHub app token': { secret: `ghs_${noise(36)}`, masked: 'ghs_[redacted]' },
  'a GitHub fine-grained token': {
    secret: `github_pat_${noise(22)}_${noise(59)}`,
    masked: 'github_pat_[redacted]',
  },
  'a GitLab token': { secret: `glpat-${noise(20)}`, masked: 'glpat-[redacted]' },
  'an AWS access key id': { secret: `AKIA${noise(16, 'ABCDEFGHIJ234567')}`, masked: 'AKIA[redacted]' },
  'an AWS temporary key id': { secret: `ASIA${noise(16, 'QRSTUVWXYZ234567')}`, masked: 'ASIA[redacted]' },
  'a Slack bot token': { secret: `xoxb-1234567890-${noise(24)}`, masked: 'xoxb-[redacted]' },
  'a Slack user token': { secret: `xoxp-1234567890-${noise(24)}`, masked: 'xoxp-[redacted]' },
  'a Google API key': { secret: `AIza${noise(35)}`, masked: 'AIza[redacted]' },
};

describe('redact', () => {
  it.each(Object.entries(shapes))('masks %s, in a sentence, keeping only its prefix', (_, shape) => {
    expect(redact(`the key is ${shape.secret} here`)).toBe(`the key is ${shape.masked} here`);
    expect(redact(`KEY="${shape.secret}"`)).toBe(`KEY="${shape.masked}"`);
    expect(redact(`Authorization: Bearer ${shape.secret}\n`)).toBe(`Authorization: Bearer ${shape.masked}\n`);
  });

  it('masks Gantry tokens and JWTs glued to a word character', () => {
    expect(redact(`key${gantry}`)).toBe('keygnt_u_tok_0123456789abcd.[redacted]');
    expect(redact(`Bearer=${gantry}`)).toBe('Bearer=gnt_u_tok_0123456789abcd.[redacted]');
    expect(redact(`x_${gantry}_y`)).not.toContain(gantry.split('.')[1]);
    expect(redact(`token${jwt}`)).toBe('token[redacted jwt]');
  });

  it('masks a private key block whole', () => {
    const pem = `-----BEGIN RSA PRIVATE KEY-----\n${noise(64)}\n${noise(64)}\n-----END RSA PRIVATE KEY-----`;
    expect(redact(`key:\n${pem}\nafter`)).toBe('key:\n[redacted private key]\nafter');
    const openssh = `-----BEGIN OPENSSH PRIVATE KEY-----\n${noise(70)}\n-----END OPENSSH PRIVATE KEY-----`;
    expect(redact(openssh)).toBe('[redacted private key]');
    // Cut off before its end: masked to the end of the text.
    expect(redact(`-----BEGIN PRIVATE KEY-----\n${noise(64)}`)).toBe('[redacted private key]');
  });

  it('leaves ordinary text alone', () => {
    const prose = [
      'a risk-free, task-based rollout: desk-top and sk-learn are fine',
      'risk-adjusted_returns_are_computed_here_daily and whisk-the-eggs-until-stiff-peaks',
      'sk-this-is-just-a-long-hyphenated-phrase-without-digits',
      'ghp_ is a GitHub prefix, AKIA too; AIza and xoxb- and glpat- alone are not keys',
      'the public key: -----BEGIN PUBLIC KEY----- stays',
      'gnt_u_short.x and eyJ without dots',
      'AKIAIOSFODNN7EXAMPLEX (too long for a key id) and notAKIAIOSFODNN7EXAMPL',
      '',
    ];
    for (const text of prose) expect(redact(text)).toBe(text);
  });

  it('redactDeep masks every string of a value and keeps an unchanged value itself', () => {
    const clean = { a: ['x', { b: 'y' }], n: 1, z: null };
    expect(redactDeep(clean)).toBe(clean);
    const masked = redactDeep({ data: { raw: [`ghp_${noise(36)}`], text: 'ok' }, n: 2 });
    expect(masked).toEqual({ data: { raw: ['ghp_[redacted]'], text: 'ok' }, n: 2 });
  });
});

describe('Redactor with known values', () => {
  it('masks each value of 8 characters or more wherever it appears, also glued to words', () => {
    const mask = new Redactor(['hunter2-but-longer', 'p4ssw0rd', 'short']);
    expect(mask.text('pw=hunter2-but-longer;x')).toBe('pw=[redacted];x');
    expect(mask.text('xxp4ssw0rdyy')).toBe('xx[redacted]yy');
    // Under 8 characters: too common to mask.
    expect(mask.text('short and sweet')).toBe('short and sweet');
  });

  it('masks the longer of two values that overlap, and values with regex characters', () => {
    const mask = new Redactor(['abcdefgh', 'abcdefgh-ijkl', 'a.b*c+d?(e)[f]']);
    expect(mask.text('abcdefgh-ijkl')).toBe('[redacted]');
    expect(mask.text('v=a.b*c+d?(e)[f] and aXbYcZdQ(e)[f]')).toBe('v=[redacted] and aXbYcZdQ(e)[f]');
  });

  it('masks the secret half of a Gantry token printed on its own', () => {
    const secret = gantry.split('.')[1] as string;
    const mask = new Redactor([secret]);
    expect(mask.text(`the secret: ${secret}`)).toBe('the secret: [redacted]');
    expect(mask.text(gantry)).toBe('gnt_u_tok_0123456789abcd.[redacted]');
  });

  it('in a stream, masks the body lines of a private key printed line by line', () => {
    const mask = new Redactor([], { stream: true });
    const lines = [
      'here it comes',
      '-----BEGIN EC PRIVATE KEY-----',
      noise(64),
      noise(40, 'AbCdEf0123+/'),
      '-----END EC PRIVATE KEY----- done',
      noise(64),
    ];
    expect(lines.map((l) => mask.text(l))).toEqual([
      'here it comes',
      '[redacted private key]',
      '[redacted private key]',
      '[redacted private key]',
      '[redacted private key] done',
      // After the end line, base64 is just text again.
      noise(64),
    ]);
  });
});
