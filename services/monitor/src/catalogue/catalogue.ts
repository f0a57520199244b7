import type { ErrorCodeInfo, JobServiceClient } from '@panda/proto';

export type CatalogueReader = Pick<JobServiceClient, 'errorCatalogue'>;

const TTL_MS = 10 * 60_000;

/**
 * The server's error catalogue (code -> description, category), cached for 10 minutes. When the
 * server is unreachable pages still render, without descriptions, and the next call retries.
 */
export class ErrorCatalogue {
  private cache: { at: number; codes: Map<string, ErrorCodeInfo> } | undefined;

  constructor(
    private readonly client: CatalogueReader | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async lookup(signal?: AbortSignal): Promise<Map<string, ErrorCodeInfo>> {
    if (this.cache && this.now() - this.cache.at < TTL_MS) return this.cache.codes;
    if (!this.client) return new Map();
    try {
      const { codes } = await this.client.errorCatalogue({ source: '' }, signal ? { signal } : {});
      this.cache = { at: this.now(), codes: new Map(codes.map((c) => [keyOf(c.source, c.code), c])) };
      return this.cache.codes;
    } catch {
      return this.cache?.codes ?? new Map();
    }
  }
}

export const keyOf = (source: string, code: number): string => `${source}:${code}`;

/** The catalogue entry of a pair; a payload exit code falls back to the pilot's entry of that code. */
export function describe(
  codes: Map<string, ErrorCodeInfo>,
  source: string,
  code: number,
): ErrorCodeInfo | undefined {
  return codes.get(keyOf(source, code));
}
