import { describe, expect, it } from 'vitest';
import { escapeHtml, html, raw } from './html.js';

describe('html', () => {
  it('escapes the characters that matter in content and attributes', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\`</a>`)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;',
    );
  });

  it('escapes interpolated values but not nested html or raw', () => {
    const name = '<script>alert(1)</script>';
    const inner = html`<b>${'&'}</b>`;
    const out = html`<td>${name}</td>
      ${inner}${raw('<i>ok</i>')}`.value.replace(/>\s+</g, '><');
    expect(out).toBe('<td>&lt;script&gt;alert(1)&lt;/script&gt;</td><b>&amp;</b><i>ok</i>');
  });

  it('joins arrays and drops null, undefined and false', () => {
    expect(html`${[1, '<', html`<br />`]}|${null}|${undefined}|${false}|${0}`.value).toBe('1&lt;<br />||||0');
  });
});
