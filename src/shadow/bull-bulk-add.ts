import Queue from 'bull';
import type { Redis } from 'ioredis';

/**
 * Adds many bull jobs in one Redis call, in bull's own key layout, so bull's workers, limiter,
 * stall checks and job counts treat them exactly as jobs bull added itself.
 *
 * Why not bull's `addBulk`: it builds a Job object, serialises its options and runs bull's add
 * script once per job, about 28 µs of the controller's one thread per decision, the largest cost
 * of ingest (docs/performance.md). Here the controller builds one options template per call and
 * sends each job as its id; Redis fills the template in, once per job, inside one script.
 *
 * What the script keeps of bull's add (node_modules/bull/lib/commands/addJob-6.lua), for jobs that
 * are never delayed, never prioritised and always carry their own id:
 * - a job whose hash exists (waiting, delayed or active) is not added again: de-duplication by id;
 * - the hash holds the fields bull writes (name, data, opts, timestamp, delay, priority);
 * - the id goes to the wait list, or to the paused list while the queue is paused (meta-paused),
 *   pushed on the left as bull does for FIFO jobs; the id counter moves by the jobs added.
 * What it leaves out: the per-job 'waiting' and 'duplicated' publications (queue events nobody here
 * listens to; workers take jobs by BRPOPLPUSH, not by notification) and debouncing (not used).
 *
 * KEYS: wait, paused, meta-paused, id.
 * ARGV: job key prefix, job name, timestamp, data head, data tail, opts head, opts tail, then one
 * (id, id as a JSON string) pair per job. Returns how many jobs were added.
 */
const ADD_JOBS_SCRIPT = `
local rcall = redis.call
local prefix, name, timestamp = ARGV[1], ARGV[2], ARGV[3]
local dataHead, dataTail, optsHead, optsTail = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local target = KEYS[1]
if rcall("EXISTS", KEYS[3]) == 1 then target = KEYS[2] end
local added = {}
for i = 8, #ARGV, 2 do
  local jobId = ARGV[i]
  local jobKey = prefix .. jobId
  if rcall("EXISTS", jobKey) == 0 then
    local quoted = ARGV[i + 1]
    rcall("HMSET", jobKey, "name", name, "data", dataHead .. quoted .. dataTail,
      "opts", optsHead .. quoted .. optsTail, "timestamp", timestamp, "delay", "0", "priority", "0")
    added[#added + 1] = jobId
  end
end
for i = 1, #added, 1000 do
  rcall("LPUSH", target, unpack(added, i, math.min(i + 999, #added)))
end
if #added > 0 then rcall("INCRBY", KEYS[4], #added) end
return #added`;

const COMMAND = 'shadowgateAddJobs';

type AddJobsClient = Redis & { [COMMAND](...args: string[]): Promise<number> };

/** Stands in for the job id while the templates are cut: no id can contain it (ids are printable text). */
const PLACEHOLDER = '\u0000id\u0000';

/** Job options with every field bull's constructor derives from them, as bull would store them. */
function storedJobParts(
  queue: Queue.Queue,
  data: object,
  options: Queue.JobOptions,
): { name: string; data: string; opts: string; timestamp: number } {
  const BullJob = (Queue as unknown as { Job: new (q: Queue.Queue, d: object, o: object) => unknown }).Job;
  const job = new BullJob(queue, data, options) as {
    toData(): { name: string; data: string; opts: string; timestamp: number };
  };
  return job.toData();
}

/** Splits `text` around the one quoted PLACEHOLDER it must contain. */
function cut(text: string, what: string): [string, string] {
  const quoted = JSON.stringify(PLACEHOLDER);
  const at = text.indexOf(quoted);
  if (at < 0 || text.indexOf(quoted, at + 1) >= 0) {
    throw new Error(`bull stored the ${what} of a job in a form this adder does not know`);
  }
  return [text.slice(0, at), text.slice(at + quoted.length)];
}

/**
 * Adds one job per id to `queue` (ids must be distinct; the caller groups them), each with data
 * `{ ...data, requestId: id }` and `options` plus `jobId: id`. Ids already held by the queue are
 * skipped. Resolves to the number added.
 */
export async function addJobsInOneCall(
  queue: Queue.Queue,
  fixedData: Record<string, string>,
  options: Queue.JobOptions,
  ids: readonly string[],
): Promise<number> {
  if (ids.length === 0) return 0;
  await queue.isReady();
  const client = queue.client as AddJobsClient;
  if (typeof client[COMMAND] !== 'function') {
    client.defineCommand(COMMAND, { numberOfKeys: 4, lua: ADD_JOBS_SCRIPT });
  }
  const stored = storedJobParts(
    queue,
    { ...fixedData, requestId: PLACEHOLDER },
    { ...options, jobId: PLACEHOLDER },
  );
  const [dataHead, dataTail] = cut(stored.data, 'data');
  const [optsHead, optsTail] = cut(stored.opts, 'options');
  const keys = (queue as unknown as { keys: Record<string, string> }).keys;
  const args: string[] = [
    keys.wait!,
    keys.paused!,
    keys['meta-paused']!,
    keys.id!,
    keys['']!,
    stored.name,
    String(stored.timestamp),
    dataHead,
    dataTail,
    optsHead,
    optsTail,
  ];
  for (const id of ids) args.push(id, JSON.stringify(id));
  return Number(await client[COMMAND](...args));
}
