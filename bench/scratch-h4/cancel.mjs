import { createGrpcClient, openChannel } from '@panda/platform';
import { WorkflowServiceDefinition } from '@panda/proto';
const ch = openChannel(process.env.PANDA_IDDS_ADDR);
const idds = createGrpcClient(WorkflowServiceDefinition, ch, { deadlineMs: 60000 });
const ac = new AbortController();
const header = { name: 'cancel-test', queue: 'SLAC_Rubin', labels: {}, jobs: [] };
async function* chunks() {
  yield { header, jobs: [] };
  yield { jobs: Array.from({ length: 100 }, (_, i) => ({ name: `j${i}`, label: 'a', command: 'true', parents: [] })) };
  await new Promise((r) => setTimeout(r, 1500));
  if (process.argv[2] === 'throw') throw new Error('client-side failure');
  ac.abort();
  await new Promise((r) => setTimeout(r, 100000));
}
try { console.log(await idds.submitWorkflowStream(chunks(), { signal: ac.signal })); } catch (e) { console.log('client got', e.name, e.message); }
if (process.argv[2] === 'kill') {}
ch.close();
