#!/usr/bin/env bash
# The SDK as a workflow service gets it: pack @shadowgate/sdk, install the tarball into an empty
# project outside the repository, count what that brings (at most MAX_PACKAGES), then import it
# there and decide once through it against a controller started from this repository on its
# embedded defaults (PGlite, in-process queue, its own flags).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
MAX_PACKAGES=60
START=$SECONDS

SCRATCH=$(mktemp -d /tmp/sdk-install-check.XXXXXX)
CONTROLLER_PID=
cleanup() {
  if [ -n "$CONTROLLER_PID" ] && kill -0 "$CONTROLLER_PID" 2>/dev/null; then
    kill "$CONTROLLER_PID"
    wait "$CONTROLLER_PID" 2>/dev/null || true
  fi
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

# The scratch project is a stranger to the repository: it must not resolve the SDK's sources.
unset NODE_OPTIONS

echo "sdk-install-check: packing @shadowgate/sdk"
# prepack builds src/sdk/dist first, so the tarball holds what the sources say now.
TARBALL=$(npm pack -w @shadowgate/sdk --pack-destination "$SCRATCH" --silent | tail -1)
TARBALL=$SCRATCH/$(basename "$TARBALL")
tar -tzf "$TARBALL" | sed 's/^/  /'

mkdir "$SCRATCH/service"
cd "$SCRATCH/service"
echo '{"name":"scratch-service","version":"1.0.0","private":true,"type":"module"}' >package.json
npm install --no-audit --no-fund --loglevel=error "$TARBALL"
COUNT=$(node -e '
  const lock = JSON.parse(require("node:fs").readFileSync("package-lock.json", "utf8"));
  console.log(Object.keys(lock.packages).filter((path) => path.startsWith("node_modules/")).length);
')
echo "sdk-install-check: the tarball installs $COUNT packages (at most $MAX_PACKAGES)"
if [ "$COUNT" -gt "$MAX_PACKAGES" ]; then
  echo "sdk-install-check: too many packages; what brings them:" >&2
  npm ls --all >&2 || true
  exit 1
fi

PORT=$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')
ADMIN_KEY=admin-$(node -e 'console.log(require("node:crypto").randomBytes(16).toString("hex"))')
URL=http://127.0.0.1:$PORT
mkdir "$SCRATCH/plans"
cp "$ROOT/rollout-plans/invoice-triage.yaml" "$SCRATCH/plans/"

echo "sdk-install-check: starting a controller on embedded defaults at $URL"
cd "$ROOT"
env -u DATABASE_URL -u REDIS_URL -u UNLEASH_URL -u UNLEASH_ADMIN_TOKEN \
  SHADOWGATE_DATA_DIR="$SCRATCH/data" SHADOWGATE_ADMIN_KEY="$ADMIN_KEY" \
  SHADOWGATE_AI_DESTINATIONS=127.0.0.0/8 LOG_LEVEL=warn \
  node --conditions=shadowgate-source --import tsx src/cli/main.ts serve \
  --plans "$SCRATCH/plans" --port "$PORT" --host 127.0.0.1 >"$SCRATCH/controller.log" 2>&1 &
CONTROLLER_PID=$!
for _ in $(seq 1 120); do
  curl -fsS "$URL/readyz" >/dev/null 2>&1 && break
  if ! kill -0 "$CONTROLLER_PID" 2>/dev/null; then
    echo "sdk-install-check: the controller exited:" >&2
    cat "$SCRATCH/controller.log" >&2
    exit 1
  fi
  sleep 0.5
done
curl -fsS "$URL/readyz" >/dev/null || { cat "$SCRATCH/controller.log" >&2; exit 1; }

INGEST_KEY=$(curl -fsS -X POST "$URL/v1/keys" -H "authorization: Bearer $ADMIN_KEY" \
  -H 'content-type: application/json' -d '{"name":"sdk-install-check","role":"ingest"}' |
  node -e 'let t = ""; process.stdin.on("data", (d) => (t += d)).on("end", () => console.log(JSON.parse(t).key));')

cd "$SCRATCH/service"
cat >decide-once.mjs <<'JS'
import { Shadowgate } from '@shadowgate/sdk';
import { MAX_BATCH, flagName } from '@shadowgate/sdk/wire';

const sg = new Shadowgate({ url: process.env.URL, apiKey: process.env.INGEST_KEY, appName: 'scratch-service' });
const ready = await sg.ready();
const result = await sg.decide(
  'invoice-triage',
  { requestId: 'sdk-install-check-1', input: { invoice: 'INV-1', amount: 120 }, context: { riskTier: 'low' } },
  async () => 'approve',
);
await sg.close();
const stats = sg.stats();
console.log(JSON.stringify({ ready, flag: flagName('invoice-triage'), maxBatch: MAX_BATCH, result, stats }));
const ok =
  ready && result.decision === 'approve' && result.decidedBy === 'human' && result.mode === 'shadow' &&
  stats.sent === 1 && stats.failed === 0 && stats.dropped === 0;
if (!ok) {
  console.error('sdk-install-check: the decision did not go through the installed SDK as expected');
  process.exit(1);
}
JS
URL=$URL INGEST_KEY=$INGEST_KEY node decide-once.mjs

# The export map's types, as a TypeScript service sees them (the repository's compiler, nothing installed).
cat >types-check.ts <<'TS'
import { type DecideResult, Shadowgate } from '@shadowgate/sdk';
import { type Mode, MODES } from '@shadowgate/sdk/wire';
const modes: readonly Mode[] = MODES;
export const decide = (sg: Shadowgate): Promise<DecideResult<string>> =>
  sg.decide('invoice-triage', { requestId: 'r', input: { modes } }, async () => 'approve');
TS
"$ROOT/node_modules/.bin/tsc" --noEmit --strict --module nodenext --moduleResolution nodenext \
  --target es2022 --typeRoots "$ROOT/node_modules/@types" --types node types-check.ts
echo "sdk-install-check: ok, $COUNT packages, $((SECONDS - START)) s"
