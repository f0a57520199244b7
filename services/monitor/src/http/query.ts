import type { z } from 'zod';
import { HttpError } from './errors.js';
import { z as zod } from 'zod';

/** Parses query parameters with `schema`; a bad one is a 400 naming the parameter. */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.infer<S> {
  const result = schema.safeParse(query);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new HttpError(
      400,
      `invalid query parameter ${String(issue?.path[0] ?? '')}: ${issue?.message ?? ''}`,
    );
  }
  return result.data;
}

/** An optional positive integer parameter; '' counts as absent. */
export const optInt = (max = Number.MAX_SAFE_INTEGER) =>
  zod
    .union([zod.literal(''), zod.coerce.number().int().min(0).max(max)])
    .optional()
    .transform((v) => (v === '' || v === 0 ? undefined : v));

/** An optional text parameter; '' counts as absent. */
export const optText = () =>
  zod
    .string()
    .trim()
    .max(200)
    .optional()
    .transform((v) => (v ? v : undefined));

/** A checkbox-like flag: present and not 0/false/off. */
export const flag = () =>
  zod
    .string()
    .optional()
    .transform((v) => v !== undefined && !['0', 'false', 'off', 'no'].includes(v.toLowerCase()));

export const limitParam = (def: number, max: number) =>
  zod
    .union([zod.literal(''), zod.coerce.number().int().min(1).max(max)])
    .optional()
    .transform((v) => (v === '' || v === undefined ? def : v));

/** A positive id path parameter, or 400. */
export function parseId(text: string, what: string): number {
  if (!/^\d{1,15}$/.test(text) || Number(text) <= 0) throw new HttpError(400, `invalid ${what} '${text}'`);
  return Number(text);
}
