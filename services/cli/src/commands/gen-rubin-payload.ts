/**
 * Payloads of `panda gen rubin`: short, real shell commands that print what the LSST
 * Science Pipelines print for each step (to stdout), and for a failing job one realistic
 * error line (to stderr) before exiting 1. Every number and every failure comes from a
 * seeded PRNG keyed on the job's name, so a seed always gives the same workflow.
 */

/** FNV-1a (32 bit) of `text`, a stable seed for one job. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a small seeded PRNG, uniform on [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The PRNG of one job of a workflow made with `seed`: independent of generation order. */
export const jobRandom = (seed: number, name: string): (() => number) =>
  mulberry32(hash32(`${seed}/${name}`));

/** A data id as the pipelines log it, e.g. `{instrument: 'LSSTCam', visit: 2025061500101, detector: 12}`. */
export function dataId(keys: Record<string, string | number>): string {
  const parts = Object.entries(keys).map(([k, v]) => `${k}: ${typeof v === 'string' ? `'${v}'` : v}`);
  return `{${parts.join(', ')}}`;
}

interface Step {
  /** What the task logs while it works (`r` draws numbers for it). */
  info: (id: string, r: () => number) => string;
  /** The exception a failing quantum ends with. */
  error: (id: string, r: () => number) => string;
}

const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

const STEPS: Record<string, Step> = {
  pipetaskInit: {
    info: () =>
      'INFO lsst.ctrl.mpexec.cmdLineFwk - pre-exec-init-qbb: registered 6 dataset types, wrote init-outputs',
    error: () => "MissingDatasetTypeError: Dataset type 'isr_config' is not registered in repo /repo/main.",
  },
  isr: {
    info: (id, r) =>
      `INFO lsst.isr (isr:${id}) - Applied bias, dark and flat; ${int(r, 0, 40)} saturated columns masked.`,
    error: (id) =>
      'FileNotFoundError: Not enough datasets (0) found for non-optional connection isr.bias (bias) ' +
      `with minimum=1 for quantum data ID ${id}.`,
  },
  characterizeImage: {
    info: (id, r) => {
      const peaks = int(r, 800, 4000);
      return `INFO lsst.characterizeImage.detection (characterizeImage:${id}) - Detected ${peaks} positive peaks in ${Math.round(peaks * 0.8)} footprints to 100 sigma`;
    },
    error: () =>
      'PsfexNoGoodStarsError: No good PSF candidates to pass to PSFEx: only 0 stars passed the selector.',
  },
  calibrate: {
    info: (id, r) =>
      `INFO lsst.calibrate.photoCal (calibrate:${id}) - Magnitude zero point: ${(31 + r()).toFixed(2)} +/- 0.00${int(r, 10, 99)} from ${int(r, 100, 600)} stars`,
    error: () =>
      "MeasureApCorrError: Unable to measure aperture correction for required algorithm 'modelFit_CModel': " +
      'only 0 sources, but require at least 2.',
  },
  writePreSourceTable: {
    info: (id, r) =>
      `INFO lsst.writePreSourceTable (writePreSourceTable:${id}) - Wrote preSourceTable with ${int(r, 500, 3000)} rows`,
    error: (id) =>
      `ValueError: Source catalog of ${id} has no column 'coord_ra': cannot write preSourceTable.`,
  },
  transformPreSourceTable: {
    info: (id, r) =>
      `INFO lsst.transformPreSourceTable (transformPreSourceTable:${id}) - Transformed ${int(r, 50_000, 400_000)} sources to sourceTable`,
    error: (id) =>
      `KeyError: Column 'ext_shapeHSM_HsmSourceMoments_xx' not found in preSourceTable of ${id}.`,
  },
};

/** Labels that have a payload here (the ones `gen rubin` makes). */
export const PAYLOAD_LABELS = Object.keys(STEPS);

export interface PayloadSpec {
  label: string;
  name: string;
  /** The quantum's data id as logged, from `dataId`. */
  id: string;
  fails: boolean;
  /** Seconds of `sleep` between the first and the last line; 0 = none. */
  sleepS: number;
  seed: number;
}

/**
 * One job's command: a log line, an optional sleep, then either the success line or, for a
 * failing job, the error line on stderr and exit 1. Only characters that are literal inside
 * double quotes in bash are used ({}, ', :, parentheses, no $ ` \ or ").
 */
export function payloadCommand(p: PayloadSpec): string {
  const step = STEPS[p.label];
  if (!step) throw new Error(`no payload for label '${p.label}'`);
  const r = jobRandom(p.seed, `${p.name}#payload`);
  const parts = [`echo "${step.info(p.id, r)}"`];
  if (p.sleepS > 0) parts.push(`sleep ${p.sleepS}`);
  const quantum = `Execution of task '${p.label}' on quantum ${p.id}`;
  if (p.fails) {
    parts.push(
      `echo "ERROR lsst.ctrl.mpexec.singleQuantumExecutor - ${quantum} failed. Exception ${step.error(p.id, r)}" >&2`,
      'exit 1',
    );
  } else {
    parts.push(`echo "INFO lsst.ctrl.mpexec.singleQuantumExecutor - ${quantum} succeeded."`);
  }
  return parts.join('; ');
}

/** The final job: BPS's `butler aggregate-graph` step, which never fails here. */
export function finalJobCommand(workflowName: string, sleepS: number): string {
  const parts = [
    `echo "INFO lsst.ctrl.bps.panda - finalJob: butler aggregate-graph --register-dataset-types --update-output-chain /repo/main u/gen/${workflowName}"`,
  ];
  if (sleepS > 0) parts.push(`sleep ${sleepS}`);
  parts.push('echo "INFO lsst.daf.butler - Output chain updated; finalJob done."');
  return parts.join('; ');
}
