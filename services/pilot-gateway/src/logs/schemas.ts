import { z } from 'zod';

export interface LogLimits {
  maxLineChars: number;
  maxRecords: number;
}

/** Thrown for a body within the HTTP limit that breaks a log limit: answered with 413. */
export class LogTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogTooLargeError';
  }
}

const shortText = z.string().max(256);

/** Body of `POST /logs/v1/records`. Unknown fields are refused (in records too). */
export function logBatchBody() {
  const record = z.strictObject({
    pilotTime: z.number().int().nonnegative(),
    source: shortText.min(1),
    severity: z.string().max(32).default('INFO'),
    message: z.string(),
    logger: shortText.optional(),
    mdc: z.record(shortText, z.string()).optional(),
    fields: z.record(shortText, z.string()).optional(),
  });
  return z.strictObject({
    pandaId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    taskId: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    queue: shortText.default(''),
    workerId: shortText.default(''),
    records: z.array(record),
    final: z.boolean().default(false),
  });
}
export type LogBatchBody = z.infer<ReturnType<typeof logBatchBody>>;

/** The first record breaking a size limit, named with its index and the limit. */
export function checkLogLimits(body: LogBatchBody, limits: LogLimits): void {
  if (body.records.length > limits.maxRecords) {
    throw new LogTooLargeError(
      `records: ${body.records.length} records, the limit is ${limits.maxRecords} per request`,
    );
  }
  body.records.forEach((r, i) => {
    const texts: [string, string][] = [
      ['message', r.message],
      ...Object.entries(r.mdc ?? {}).map(([k, v]): [string, string] => [`mdc.${k}`, v]),
      ...Object.entries(r.fields ?? {}).map(([k, v]): [string, string] => [`fields.${k}`, v]),
    ];
    for (const [field, text] of texts) {
      if (text.length > limits.maxLineChars) {
        throw new LogTooLargeError(
          `records[${i}].${field}: ${text.length} characters, the limit is ${limits.maxLineChars}`,
        );
      }
    }
  });
}

/** Names of archive files: one path segment of safe characters. */
export const archiveName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only')
  .refine((n) => n !== '.' && n !== '..', 'not . or ..');

export const pandaIdParam = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
