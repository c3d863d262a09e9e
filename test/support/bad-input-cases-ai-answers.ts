import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Odd answers of an AI system, for test/integration/untrusted-ai-output.test.ts: a server of our
 * own that answers each request id with a scripted answer (or a 50 MiB stream for ids starting
 * with `stream-`), and the table of answers with the AI error each must be stored as.
 */

/** The answer cap the test's controller runs with (SHADOWGATE_MAX_AI_RESPONSE_BYTES). */
export const MAX_AI_RESPONSE_BYTES = 64 * 1024;

export type Answer = (res: ServerResponse) => void;

export const json =
  (body: string, status = 200): Answer =>
  (res) => {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

/** An AI system of our own that answers each request id with a scripted, odd answer. */
export interface OddAi {
  url: string;
  /** Bytes the socket took of each streamed answer before the client let go, by request id. */
  streamed: Map<string, number>;
  calls: Map<string, number>;
  close(): Promise<void>;
}

export async function startOddAi(
  answers: Record<string, Answer>,
  /** The answer to request ids without one of their own; else 404. */
  fallback?: Answer,
): Promise<OddAi> {
  const streamed = new Map<string, number>();
  const calls = new Map<string, number>();
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const { requestId } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { requestId: string };
    calls.set(requestId, (calls.get(requestId) ?? 0) + 1);
    const answer =
      answers[requestId] ??
      (requestId.startsWith('stream-') ? streamAnswer(streamed, requestId) : undefined) ??
      fallback;
    if (!answer) return json('{"error":"no scripted answer"}', 404)(res);
    answer(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/decide`,
    streamed,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const STREAM_BYTES = 50 * 1024 * 1024;

/** 50 MiB of JSON, chunked (no length announced), written only as fast as the client reads. */
function streamAnswer(streamed: Map<string, number>, requestId: string): Answer {
  return (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.on('close', () => streamed.set(requestId, res.socket?.bytesWritten ?? Number.NaN));
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    res.write('{"decision":"approve","padding":"');
    const pump = (): void => {
      while (sent < STREAM_BYTES && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end('"}');
    };
    pump();
  };
}

const deep = (levels: number) => `${'['.repeat(levels)}1${']'.repeat(levels)}`;

/** Request id → the use case it is mirrored to and the error stored (a fragment); answers in ODD_ANSWERS. */
export const REFUSED_ANSWERS: Array<{ id: string; useCase: 'odd-labels' | 'odd-json'; error: string }> = [
  {
    id: 'a wrong label',
    useCase: 'odd-labels',
    error:
      'bad-output: decision does not fit the plan: expected one of approve, reject, escalate; from the AI system: "maybe"',
  },
  {
    id: 'a decision nested one level too deep',
    useCase: 'odd-labels',
    error: 'bad-output: answer does not fit: decision:',
  },
  { id: 'an object where a label is expected', useCase: 'odd-labels', error: 'got an object' },
  { id: 'a confidence of 7', useCase: 'odd-labels', error: 'bad-output: answer does not fit: confidence:' },
  {
    id: 'a confidence given as text',
    useCase: 'odd-labels',
    error: 'bad-output: answer does not fit: confidence:',
  },
  {
    id: 'a confidence of 1e999',
    useCase: 'odd-labels',
    error: 'bad-output: answer does not fit: confidence:',
  },
  {
    id: 'negative token counts',
    useCase: 'odd-labels',
    error: 'bad-output: answer does not fit: usage.inputTokens:',
  },
  { id: 'a negative cost', useCase: 'odd-labels', error: 'bad-output: answer does not fit: cost:' },
  {
    id: 'a script where a label is expected',
    useCase: 'odd-labels',
    error: 'from the AI system: "<script>alert(1)</script>"',
  },
  {
    id: 'an HTML page',
    useCase: 'odd-labels',
    error:
      'bad-output: answer is not JSON (12064 bytes); from the AI system: <html><head><script>alert(1)</script>',
  },
  { id: 'an array', useCase: 'odd-labels', error: 'bad-output: answer does not fit: (root):' },
  { id: 'a null decision', useCase: 'odd-labels', error: 'got null' },
  { id: 'a label of 30,000 characters', useCase: 'odd-labels', error: 'from the AI system: "xxxxxxxx' },
  {
    id: 'HTTP 500 with 100 KB of text',
    useCase: 'odd-labels',
    error:
      'http-status: AI system answered HTTP 500 (a body of over 4096 bytes); from the AI system: {"error":"eee',
  },
  {
    id: 'a Content-Length over the cap',
    useCase: 'odd-labels',
    error: `too-large: answer larger than ${MAX_AI_RESPONSE_BYTES} bytes`,
  },
  {
    id: 'a model version with markup',
    useCase: 'odd-labels',
    error: 'bad-output: answer does not fit: modelVersion: letters, digits and ._:/@+- only',
  },
  {
    id: 'a model version with a terminal escape',
    useCase: 'odd-labels',
    error: 'bad-output: answer does not fit: modelVersion: letters, digits and ._:/@+- only',
  },
  // Numbers beyond what the columns and the rollups' sums hold: a batch of answers would fail with them.
  {
    id: '3e9 input tokens',
    useCase: 'odd-labels',
    error: 'out-of-range: input tokens not a count up to 100,000,000; from the AI system: 3000000000',
  },
  {
    id: 'a cost of 1e308',
    useCase: 'odd-labels',
    error: 'out-of-range: cost of the call not an amount up to 1000 USD; from the AI system: 1e+308',
  },
  // Answers that fit the plan but could not be stored: refused before PostgreSQL sees them.
  {
    id: 'a NUL in the model version',
    useCase: 'odd-labels',
    error:
      'bad-output: answer cannot be stored: contains a NUL character (\\u0000), which cannot be stored; from the AI system: at modelVersion',
  },
  {
    id: 'a NUL in a JSON decision',
    useCase: 'odd-json',
    error:
      'bad-output: answer cannot be stored: contains a NUL character (\\u0000), which cannot be stored; from the AI system: at decision.note',
  },
  {
    id: 'an unpaired surrogate in a JSON decision',
    useCase: 'odd-json',
    error:
      'bad-output: answer cannot be stored: contains an unpaired UTF-16 surrogate, which is not valid Unicode; from the AI system: at decision',
  },
  {
    id: 'a JSON decision nested 10,000 levels deep',
    useCase: 'odd-json',
    error:
      'bad-output: answer cannot be stored: nested deeper than 64 levels of objects and arrays; from the AI system: at decision[0][0]',
  },
];

export const ODD_ANSWERS: Record<string, Answer> = {
  'a wrong label': json('{"decision":"maybe","confidence":0.9}'),
  'a decision nested one level too deep': json('{"answer":{"decision":"approve"}}'),
  'an object where a label is expected': json('{"decision":{"label":"approve"}}'),
  'a confidence of 7': json('{"decision":"approve","confidence":7}'),
  'a confidence given as text': json('{"decision":"approve","confidence":"0.9"}'),
  'a confidence of 1e999': json('{"decision":"approve","confidence":1e999}'),
  'negative token counts': json('{"decision":"approve","usage":{"inputTokens":-5,"outputTokens":3}}'),
  'a negative cost': json('{"decision":"approve","cost":-1}'),
  'a script where a label is expected': json('{"decision":"<script>alert(1)</script>"}'),
  'an HTML page': (res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<html><head><script>alert(1)</script></head><body>${'<p>hello</p>'.repeat(1000)}</body></html>`);
  },
  'an array': json('["approve"]'),
  'a null decision': json('{"decision":null}'),
  'a label of 30,000 characters': json(JSON.stringify({ decision: 'x'.repeat(30_000) })),
  'HTTP 500 with 100 KB of text': json(`{"error":"${'e'.repeat(100_000)}"}`, 500),
  'a model version with markup': json('{"decision":"approve","modelVersion":"**eligible** <b>1</b>"}'),
  'a model version with a terminal escape': json(
    '{"decision":"approve","modelVersion":"m\\u001b]52;c;aGk=\\u0007"}',
  ),
  '3e9 input tokens': json('{"decision":"approve","usage":{"inputTokens":3e9,"outputTokens":1}}'),
  'a cost of 1e308': json('{"decision":"approve","cost":1e308}'),
  'a NUL in the model version': json('{"decision":"approve","modelVersion":"m\\u0000"}'),
  'a NUL in a JSON decision': json('{"decision":{"note":"a\\u0000b"}}'),
  'an unpaired surrogate in a JSON decision': json('{"decision":"appro\\ud800ve"}'),
  'a JSON decision nested 10,000 levels deep': json(`{"decision":${deep(10_000)}}`),
  'a Content-Length over the cap': (res) => {
    // Announces 20 MB, sends a little and waits: the client must not wait for the rest.
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 20 * 1024 * 1024 });
    res.write('{"decision":"approve","padding":"');
  },
  proto: json('{"decision":"approve","__proto__":{"polluted":true}}'),
  'proto-json': json('{"decision":{"__proto__":{"polluted":true},"route":"pay"}}'),
  markup: json('{"decision":"<script>alert(1)</script>"}'),
};
