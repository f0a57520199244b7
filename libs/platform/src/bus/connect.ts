import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  jetstream,
  jetstreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import type { Logger } from '../logging/logger.js';

export interface Bus {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/** The stream that carries every `panda.*` fact. */
export const EVENTS_STREAM = 'PANDA';

const nanos = (ms: number) => ms * 1_000_000;

export async function connectBus(options: { url: string; name: string; logger: Logger }): Promise<Bus> {
  const nc = await connect({
    servers: options.url,
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
  });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') {
        options.logger.warn({ nats: s.type }, 'nats connection status');
      }
    }
  })();
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  return { nc, js, jsm };
}

export interface StreamSpec {
  name: string;
  subjects: string[];
  maxAgeMs: number;
  maxBytes?: number;
  duplicateWindowMs?: number;
}

/** Creates the stream or brings its settings up to date; safe when several services race. */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<void> {
  const config: Partial<StreamConfig> & { name: string } = {
    name: spec.name,
    subjects: spec.subjects,
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(spec.maxAgeMs),
    max_bytes: spec.maxBytes ?? -1,
    duplicate_window: nanos(spec.duplicateWindowMs ?? 120_000),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await jsm.streams.info(spec.name);
      await jsm.streams.update(spec.name, config);
      return;
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || err.code !== JetStreamApiCodes.StreamNotFound) throw err;
    }
    try {
      await jsm.streams.add(config);
      return;
    } catch (err) {
      // Another service created it between our info and add: loop and update instead.
      if (!(err instanceof JetStreamApiError)) throw err;
    }
  }
}

export async function ensureEventsStream(jsm: JetStreamManager): Promise<void> {
  await ensureStream(jsm, { name: EVENTS_STREAM, subjects: ['panda.>'], maxAgeMs: 7 * 24 * 3600 * 1000 });
}

export async function closeBus(bus: Bus): Promise<void> {
  if (!bus.nc.isClosed()) await bus.nc.drain();
}
