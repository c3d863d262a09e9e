import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT, fixturePlan, UC } from '../support/bad-input-cases.js';
import { snapshotDatabase } from '../support/db-snapshot.js';
import { startTestController, type TestController } from '../support/test-controller.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * Bad input below JSON: bytes on the socket that no HTTP client library would send (bare CR in a
 * header, NUL in the request line, smuggling-shaped lengths), hostile request ids in headers, and
 * bodies whose Content-Encoding lies or inflates past the limit. Each is refused without a crash
 * and leaves the database as it was.
 */

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function parseAnswer(text: string): RawAnswer {
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

/** Writes `bytes` as they are and reads until the server closes (every request says Connection: close). */
function rawExchange(port: number, bytes: string | Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => resolve(parseAnswer(Buffer.concat(chunks).toString('latin1'))));
  });
}

describe('bad input on the wire is refused without a crash and changes nothing', () => {
  let tdb: TestDatabase;
  let tc: TestController;
  let port: number;
  let auth: string;

  const post = (headers: string[], body: Buffer) =>
    Buffer.concat([
      Buffer.from(
        [
          'POST /v1/decisions HTTP/1.1',
          'Host: shadowgate',
          `Authorization: ${auth}`,
          'Content-Type: application/json',
          ...headers,
          'Connection: close',
          '',
          '',
        ].join('\r\n'),
        'latin1',
      ),
      body,
    ]);
  const decisionJson = (requestId: string, input: unknown = 1) =>
    Buffer.from(JSON.stringify({ useCase: UC, requestId, input }));

  beforeAll(async () => {
    tdb = await createTestDatabase();
    tc = await startTestController({
      database: tdb.database,
      queue: 'in-process',
      env: {
        SHADOWGATE_BODY_LIMIT: String(BODY_LIMIT),
        SHADOWGATE_RATE_LIMIT_INGEST_PER_SEC: '0',
        SHADOWGATE_RATE_LIMIT_API_PER_SEC: '0',
      },
    });
    await tc.http
      .put(`/v1/use-cases/${UC}/plan`)
      .set(tc.admin)
      .set('content-type', 'application/yaml')
      .send(fixturePlan(UC))
      .expect(201);
    const server = await tc.controller.listen(0, '127.0.0.1');
    port = (server.address() as AddressInfo).port;
    auth = tc.admin.Authorization;
  });

  afterAll(async () => {
    await tc?.stop();
    await tdb?.drop();
  });

  const cases: Array<{ name: string; bytes: () => string | Buffer; status: number; error?: string }> = [
    {
      name: 'a header value with a bare CR',
      bytes: () =>
        'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: a\rSet-Cookie: x=1\r\nConnection: close\r\n\r\n',
      status: 400,
    },
    {
      name: 'a NUL byte in the request line',
      bytes: () => 'GET /v1/use-cases/a\u0000b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      status: 400,
    },
    {
      name: 'a header section over 16 KiB',
      bytes: () =>
        `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\nConnection: close\r\n\r\n`,
      status: 431,
    },
    {
      name: 'two Content-Length headers that disagree',
      bytes: () => post(['Content-Length: 5', 'Content-Length: 50'], decisionJson('smuggled-1')),
      status: 400,
    },
    {
      name: 'Content-Length beside Transfer-Encoding: chunked',
      bytes: () => post(['Content-Length: 5', 'Transfer-Encoding: chunked'], Buffer.from('0\r\n\r\n')),
      status: 400,
    },
    {
      name: 'a gzip Content-Encoding on a body that is not gzip',
      bytes: () => {
        const body = decisionJson('not-gzip');
        return post(['Content-Encoding: gzip', `Content-Length: ${body.length}`], body);
      },
      status: 400,
      error: 'bad_request',
    },
    {
      name: 'a br Content-Encoding on a body that is not brotli',
      bytes: () => {
        const body = decisionJson('not-brotli');
        return post(['Content-Encoding: br', `Content-Length: ${body.length}`], body);
      },
      status: 400,
      error: 'bad_request',
    },
    {
      name: 'a gzip bomb: 50 KB that inflate to 50 MB',
      bytes: () => {
        const body = gzipSync(decisionJson('bomb', '0'.repeat(50 * 1024 * 1024)));
        return post(['Content-Encoding: gzip', `Content-Length: ${body.length}`], body);
      },
      status: 413,
      error: 'payload_too_large',
    },
    {
      name: 'a brotli body that inflates past the limit',
      bytes: () => {
        const body = brotliCompressSync(decisionJson('brotli-bomb', 'z'.repeat(1024 * 1024)));
        return post(['Content-Encoding: br', `Content-Length: ${body.length}`], body);
      },
      status: 413,
      error: 'payload_too_large',
    },
  ];

  it.each(cases.map((c) => [c.name, c] as const))(
    'when %s arrives, then it is refused with the right status and nothing is stored',
    async (_name, c) => {
      const before = await snapshotDatabase(tdb.database);
      const answer = await rawExchange(port, c.bytes());
      expect(answer.status).toBe(c.status);
      expect(answer.headers['set-cookie']).toBeUndefined();
      if (c.error) {
        const body = JSON.parse(answer.body) as { error: string; message: string };
        expect(body.error).toBe(c.error);
        expect(body.message.length).toBeGreaterThan(10);
      }
      expect(await snapshotDatabase(tdb.database)).toEqual(before);
    },
  );

  it('when a body stops short of its Content-Length and the client hangs up, then nothing is stored', async () => {
    const before = await snapshotDatabase(tdb.database);
    await new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(post(['Content-Length: 500'], Buffer.from(`{"useCase":"${UC}","requestId":"cut"`)));
        setTimeout(() => socket.destroy(), 100);
      });
      socket.on('close', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(await snapshotDatabase(tdb.database)).toEqual(before);
  });

  it.each([
    ['an encoded CRLF and a Set-Cookie', 'abc%0d%0aSet-Cookie:%20x=1'],
    ['a script tag', '<script>alert(1)</script>'],
    ['10,000 characters', 'r'.repeat(10_000)],
  ])(
    'when the x-request-id holds %s, then it is not echoed: the response carries a fresh id',
    async (_name, id) => {
      const answer = await rawExchange(
        port,
        `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${id}\r\nConnection: close\r\n\r\n`,
      );
      expect(answer.status).toBe(200);
      expect(answer.headers['x-request-id']).toMatch(UUID);
      expect(answer.headers['set-cookie']).toBeUndefined();
    },
  );

  it('when a well-formed gzip body arrives after all that, then it is stored and /healthz answers', async () => {
    const body = gzipSync(decisionJson('gzip-ok'));
    const answer = await rawExchange(
      port,
      post(['Content-Encoding: gzip', `Content-Length: ${body.length}`], body),
    );
    expect({ status: answer.status, body: JSON.parse(answer.body) }).toEqual({
      status: 202,
      body: { accepted: 1, duplicates: 0, aiCallsOwed: 0 },
    });
    await tc.http.get('/healthz').expect(200);
  });
});
