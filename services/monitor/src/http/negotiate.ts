import type { FastifyRequest } from 'fastify';

/** JSON when `?json` is in the query or the client accepts application/json (as bigmon). */
export function wantsJson(request: FastifyRequest): boolean {
  const query = request.query;
  if (query !== null && typeof query === 'object' && 'json' in query) return true;
  return (request.headers.accept ?? '').toLowerCase().includes('application/json');
}

/** The request's own path with `json` added to its query, for the page's JSON link. */
export function jsonHrefOf(request: FastifyRequest): string {
  const url = new URL(request.url, 'http://monitor.invalid');
  url.searchParams.set('json', '');
  return `${url.pathname}?${url.searchParams.toString().replace(/(^|&)json=(&|$)/, '$1json$2')}`;
}
