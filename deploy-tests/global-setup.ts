// Vitest globalSetup of the deploy project: vendors the charts' file:// dependencies (the library
// into every service chart, then all into the umbrella) once, before any test file runs. The
// charts-*.test.ts files run in parallel and would otherwise rebuild the same charts/*/charts.
import { buildDependencies } from './helm.js';

export default function setup(): void {
  buildDependencies();
}
