/**
 * A small Markdown renderer that builds React elements and never parses HTML: what an agent or
 * user wrote is shown as text, with paragraphs, headings, lists, quotes, code, emphasis and
 * http(s)/mailto links. `<script>` in a message is the text `<script>`. About 2 KB against the
 * 40+ KB of a full Markdown + sanitizer pair.
 */
import { Fragment, type ReactNode } from 'react';

type Block =
  | { kind: 'p'; text: string }
  | { kind: 'h'; level: number; text: string }
  | { kind: 'code'; text: string }
  | { kind: 'quote'; text: string }
  | { kind: 'ul' | 'ol'; items: string[] };

const fence = /^\s*```/;
const heading = /^(#{1,4})\s+(.*)$/;
const bullet = /^\s*[-*+]\s+(.*)$/;
const numbered = /^\s*\d+[.)]\s+(.*)$/;
const quote = /^\s*>\s?(.*)$/;

export function blocks(source: string): Block[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const out: Block[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length) out.push({ kind: 'p', text: para.join('\n') });
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (fence.test(line)) {
      flush();
      const code: string[] = [];
      for (i++; i < lines.length && !fence.test(lines[i] ?? ''); i++) code.push(lines[i] ?? '');
      out.push({ kind: 'code', text: code.join('\n') });
      continue;
    }
    const h = heading.exec(line);
    if (h) {
      flush();
      out.push({ kind: 'h', level: (h[1] ?? '#').length, text: h[2] ?? '' });
      continue;
    }
    const listKind = bullet.test(line) ? 'ul' : numbered.test(line) ? 'ol' : undefined;
    if (listKind) {
      flush();
      const pattern = listKind === 'ul' ? bullet : numbered;
      const items: string[] = [];
      for (; i < lines.length && pattern.test(lines[i] ?? ''); i++)
        items.push(pattern.exec(lines[i] ?? '')?.[1] ?? '');
      i--;
      out.push({ kind: listKind, items });
      continue;
    }
    if (quote.test(line)) {
      flush();
      const quoted: string[] = [];
      for (; i < lines.length && quote.test(lines[i] ?? ''); i++)
        quoted.push(quote.exec(lines[i] ?? '')?.[1] ?? '');
      i--;
      out.push({ kind: 'quote', text: quoted.join('\n') });
      continue;
    }
    if (line.trim() === '') flush();
    else para.push(line);
  }
  flush();
  return out;
}

// `code` | **strong** | *em* / _em_ | [text](url) | a bare URL | @name
const inlinePattern =
  /`([^`\n]+)`|\*\*([^*\n]+?)\*\*|(?<![\w*])\*([^*\n]+?)\*(?!\w)|(?<!\w)_([^_\n]+?)_(?!\w)|\[([^\]\n]+)\]\(([^)\s]+)\)|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])|(?<![\w@])@([a-z0-9][\w.-]*[\w])/g;

/** Only web and mail links: `javascript:`, `data:` and the like stay text. */
export function safeHref(url: string): string | undefined {
  try {
    const parsed = new URL(url, location.origin);
    return ['http:', 'https:', 'mailto:'].includes(parsed.protocol) ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

function link(href: string, text: ReactNode, key: number): ReactNode {
  const safe = safeHref(href);
  if (!safe) return text;
  return (
    <a key={key} href={safe} target="_blank" rel="noopener noreferrer nofollow">
      {text}
    </a>
  );
}

export function inline(text: string): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  let key = 0;
  for (const m of text.matchAll(inlinePattern)) {
    const at = m.index;
    if (at > last) out.push(text.slice(last, at));
    const [whole, code, strong, em1, em2, linkText, href, bare, mention] = m;
    if (code !== undefined) out.push(<code key={key++}>{code}</code>);
    else if (strong !== undefined) out.push(<strong key={key++}>{inline(strong)}</strong>);
    else if (em1 !== undefined || em2 !== undefined)
      out.push(<em key={key++}>{inline(em1 ?? em2 ?? '')}</em>);
    else if (linkText !== undefined && href !== undefined) out.push(link(href, inline(linkText), key++));
    else if (bare !== undefined) out.push(link(bare, bare, key++));
    else if (mention !== undefined)
      out.push(
        <span key={key++} className="at">
          @{mention}
        </span>,
      );
    else out.push(whole);
    last = at + whole.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function withBreaks(text: string): ReactNode[] {
  return text.split('\n').map((line, i) => (
    <Fragment key={i}>
      {i > 0 && <br />}
      {inline(line)}
    </Fragment>
  ));
}

/** One line of plain text for a preview: the Markdown marks dropped, the words kept. */
export function plainText(source: string): string {
  const line = source.split('\n').find((l) => l.trim() && !fence.test(l)) ?? '';
  return line
    .replace(/^\s*(#{1,4}|[-*+]|\d+[.)]|>)\s+/, '')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/(\*\*|`|(?<!\w)_|_(?!\w))/g, '')
    .trim();
}

export function Markdown({ text, className }: { text: string; className?: string }) {
  return (
    <div className={className ? `md ${className}` : 'md'}>
      {blocks(text).map((block, i) => {
        switch (block.kind) {
          case 'p':
            return <p key={i}>{withBreaks(block.text)}</p>;
          case 'h': {
            // Headings inside a message are text emphasis, not document outline.
            return (
              <p key={i} className={`md-h md-h${block.level}`}>
                <strong>{inline(block.text)}</strong>
              </p>
            );
          }
          case 'code':
            return (
              <pre key={i}>
                <code>{block.text}</code>
              </pre>
            );
          case 'quote':
            return <blockquote key={i}>{withBreaks(block.text)}</blockquote>;
          case 'ul':
          case 'ol': {
            const List = block.kind;
            return (
              <List key={i}>
                {block.items.map((item, j) => (
                  <li key={j}>{inline(item)}</li>
                ))}
              </List>
            );
          }
        }
      })}
    </div>
  );
}
