import { randomBytes } from 'node:crypto';
import { Database } from '@panda/platform';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { labelEdges, labelEdgesByJoin } from './workflows.js';

// A database of its own holding the two idds tables the label DAG reads (only the used columns).
const name = `monitor_edges_${randomBytes(4).toString('hex')}`;
let admin: Database;
let db: Database;

beforeAll(async () => {
  const url = inject('pgUrl');
  admin = await Database.connect({ url, schema: 'public', migrations: [], poolSize: 1 });
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  db = await Database.connect({ url: u.toString(), schema: 'public', migrations: [], poolSize: 2 });
  await db.query(`CREATE SCHEMA idds`);
  await db.query(`CREATE TABLE idds.nodes (node_id bigint PRIMARY KEY, workflow_id bigint NOT NULL,
    task_ref bigint NOT NULL, label text NOT NULL)`);
  await db.query(
    `CREATE TABLE idds.edges (parent_id bigint, child_id bigint, PRIMARY KEY (parent_id, child_id))`,
  );
  const nodes: [number, number, number, string][] = [
    // Workflow 1: tasks in unbroken runs of ids (as idds stores them), two chunks of label B,
    // with workflow 2's nodes in between.
    [10, 1, 1, 'A'],
    [11, 1, 1, 'A'],
    [12, 1, 2, 'B'],
    [13, 1, 2, 'B'],
    [14, 1, 3, 'B'],
    [20, 2, 5, 'X'],
    [21, 2, 6, 'Y'],
    [30, 1, 4, 'C'],
    [31, 1, 4, 'C'],
    // Workflow 2 again (task 6 is broken by workflow 1's run above): the join is used.
    [40, 2, 5, 'X'],
    [41, 2, 6, 'Y'],
    [42, 2, 7, 'Z'],
  ];
  const edges: [number, number][] = [
    [10, 12],
    [11, 13],
    [11, 14],
    [12, 30],
    [14, 31],
    [10, 31],
    [20, 21],
    [40, 41],
    [21, 42],
    [41, 42],
  ];
  await db.query(
    `INSERT INTO idds.nodes SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[])`,
    [nodes.map((n) => n[0]), nodes.map((n) => n[1]), nodes.map((n) => n[2]), nodes.map((n) => n[3])],
  );
  await db.query(`INSERT INTO idds.edges SELECT * FROM unnest($1::bigint[], $2::bigint[])`, [
    edges.map((e) => e[0]),
    edges.map((e) => e[1]),
  ]);
});

afterAll(async () => {
  await db?.close();
  await admin?.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin?.close();
});

describe('labelEdges', () => {
  it('classifies edges by runs of node ids when every task is one unbroken run', async () => {
    const edges = await labelEdges(db, 1);
    expect(edges).toEqual([
      { parent: 'A', child: 'B' },
      { parent: 'A', child: 'C' },
      { parent: 'B', child: 'C' },
    ]);
    expect(edges).toEqual(await labelEdgesByJoin(db, 1));
  });

  it('falls back to the join when a task is interleaved with other nodes', async () => {
    const edges = await labelEdges(db, 2);
    expect(edges).toEqual([
      { parent: 'X', child: 'Y' },
      { parent: 'Y', child: 'Z' },
    ]);
    expect(edges).toEqual(await labelEdgesByJoin(db, 2));
  });

  it('an unknown workflow has no edges', async () => {
    expect(await labelEdges(db, 99)).toEqual([]);
  });
});
