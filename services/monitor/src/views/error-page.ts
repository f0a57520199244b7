import { html } from './html.js';
import { renderPage } from './layout.js';

/** An error page; pages of a temporary failure (5xx) refresh themselves. */
export function renderErrorPage(statusCode: number, message: string): string {
  const title = statusCode === 404 ? 'Not found' : statusCode >= 500 ? 'Service unavailable' : 'Bad request';
  const body = html`<h1>${title}</h1>
    <div class="error"><p>${message}</p></div>
    <p><a href="/workflows">Back to workflows</a></p>`;
  return renderPage({ title, body, ...(statusCode >= 500 ? { refreshSeconds: 5 } : {}) });
}
