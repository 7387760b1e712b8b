// Entry of the analysis worker thread (bundled as out/main/inference-worker.js). It owns its own store (openStore:
// on SQLite its own connection, WAL letting it write while the main thread reads; on PostgreSQL its own pool) and its own onnxruntime session, so the
// Electron main process never blocks on decoding or inference.
import { parentPort, workerData } from 'node:worker_threads';
import type { Store } from '../db/contract';
import { openStore } from '../db/store';
import { serializeError } from './worker-errors';
import { loadModelPackage, type LoadedModel } from './model-package';
import { analyseCaseFolder } from './pipeline';
import type { AnalysisJob, ParentMessage, WorkerMessage } from './worker-protocol';

function requirePort(): NonNullable<typeof parentPort> {
  if (parentPort === null) throw new Error('inference worker: must be started as a worker thread');
  return parentPort;
}
const port = requirePort();

const job = workerData as AnalysisJob;
let cancelRequested = false;
let failuresPosted = 0;
const post = (message: WorkerMessage): void => port.postMessage(message);

const onParentMessage = (message: ParentMessage): void => {
  if (message.type === 'cancel') cancelRequested = true;
};
port.on('message', onParentMessage);

async function run(): Promise<void> {
  let store: Store | null = null;
  let model: LoadedModel | null = null;
  try {
    store = await openStore(job.databaseLocation);
    model = await loadModelPackage(job.modelDir, {
      ...(job.intraOpThreads === undefined ? {} : { intraOpThreads: job.intraOpThreads }),
      ...(job.allowSpinning === undefined ? {} : { allowSpinning: job.allowSpinning }),
    });
    const outcome = await analyseCaseFolder(
      store,
      model,
      job.caseId,
      {
        onProgress: ({ failures, ...progress }) => {
          post({ type: 'progress', progress, newFailures: failures.slice(failuresPosted) });
          failuresPosted = failures.length;
        },
        isCancelled: () => cancelRequested,
      },
      {
        ...(job.batchSize === undefined ? {} : { batchSize: job.batchSize }),
        ...(job.flagging === undefined ? {} : { flagging: job.flagging }),
        ...(job.actor === undefined ? {} : { actor: job.actor }),
      },
    );
    post({ type: 'done', outcome });
  } catch (error) {
    post({ type: 'failed', error: serializeError(error) });
  } finally {
    if (model !== null) await model.session.release();
    if (store !== null) await store.close();
    // Without a message listener the port no longer keeps the thread alive: it exits once the messages above are
    // delivered. (Closing the port instead can drop the last messages, and with them the outcome.)
    port.off('message', onParentMessage);
  }
}

void run();
