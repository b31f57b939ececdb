// Draws the dashboard's icons (the logo of src/views/signin.tsx) into public/: an SVG, and PNGs
// for home screens, rasterised here with 4x4 supersampling and written with node:zlib.
// Run it after changing the logo: node packages/web/scripts/make-icons.mjs
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const out = new URL('../public/', import.meta.url);
const bg = [47, 91, 211];
const fg = [255, 255, 255];
// In the logo's 32x32 box: a rounded square and a gantry crane: beam, two legs, hoist, load.
const segments = [
  [8, 10, 24, 10, 2.6],
  [10.5, 10, 10.5, 23, 2.6],
  [21.5, 10, 21.5, 23, 2.6],
  [16, 10, 16, 14, 1.8],
  [14.5, 17.5, 17.5, 17.5, 4.2],
];

const paths = segments
  .map(([ax, ay, bx, by, w]) => `<path d="M${ax} ${ay}L${bx} ${by}" stroke-width="${w}"/>`)
  .join('');
const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect x="2" y="2" width="28" height="28" rx="7" fill="rgb(${bg})"/><g fill="none" stroke="#fff" stroke-linecap="round">${paths}</g></svg>\n`;
writeFileSync(new URL('icon.svg', out), svg);

function inRoundedRect(x, y, x0, y0, size, r) {
  const cx = Math.min(Math.max(x, x0 + r), x0 + size - r);
  const cy = Math.min(Math.max(y, y0 + r), y0 + size - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

function nearSegment(x, y, [ax, ay, bx, by, w]) {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
  return (x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2 <= (w / 2) ** 2;
}

/** `full`: the square fills the icon (for maskable home-screen icons the platform crops it). */
function png(size, full) {
  const scale = size / 32;
  const rows = [];
  for (let py = 0; py < size; py++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let px = 0; px < size; px++) {
      let cover = 0;
      let ink = 0;
      for (let sy = 0; sy < 4; sy++)
        for (let sx = 0; sx < 4; sx++) {
          const x = (px + (sx + 0.5) / 4) / scale;
          const y = (py + (sy + 0.5) / 4) / scale;
          const inside = full ? true : inRoundedRect(x, y, 2, 2, 28, 7);
          if (!inside) continue;
          cover++;
          if (segments.some((s) => nearSegment(x, y, s))) ink++;
        }
      const a = cover / 16;
      const f = cover ? ink / cover : 0;
      const o = 1 + px * 4;
      for (let c = 0; c < 3; c++) row[o + c] = Math.round(bg[c] * (1 - f) + fg[c] * f);
      row[o + 3] = Math.round(a * 255);
    }
    rows.push(row);
  }
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const table = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

writeFileSync(new URL('icon-192.png', out), png(192, false));
writeFileSync(new URL('icon-512.png', out), png(512, false));
writeFileSync(new URL('icon-maskable-512.png', out), png(512, true));
console.log('icons written to', out.pathname);
