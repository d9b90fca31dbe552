// Composes the supergraph from UnityPlan's subgraph SDL (schema.federation.graphql) and, when its
// URL is given, the test subgraph `picks`; without it, the supergraph docker/ serves.
// Usage: node compose.mjs [--sdl] UNITYPLAN_SDL UNITYPLAN_URL [PICKS_URL]
// Prints one JSON line: {"supergraphSdl": ..., "errors": [...], "hints": [...]}; exit 1 on errors.
// With --sdl (`make supergraph`), prints the supergraph SDL alone, and exits 1 on errors or hints.
import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { typeDefs as picksTypeDefs } from './picks.mjs';

const args = process.argv.slice(2);
const sdlOnly = args[0] === '--sdl';
const [sdlPath, unityplanUrl, picksUrl] = sdlOnly ? args.slice(1) : args;
if (!sdlPath || !unityplanUrl) {
  console.error('usage: node compose.mjs [--sdl] UNITYPLAN_SDL UNITYPLAN_URL [PICKS_URL]');
  process.exit(2);
}
const services = [
  { name: 'unityplan', url: unityplanUrl, typeDefs: parse(readFileSync(sdlPath, 'utf8')) },
];
if (picksUrl) services.push({ name: 'picks', url: picksUrl, typeDefs: picksTypeDefs });
const result = composeServices(services);
if (sdlOnly) {
  if (result.errors || result.hints.length) {
    console.error(JSON.stringify({ errors: result.errors?.map((e) => e.message), hints: result.hints }));
    process.exit(1);
  }
  process.stdout.write(result.supergraphSdl);
} else {
  console.log(
    JSON.stringify({
      supergraphSdl: result.supergraphSdl ?? null,
      errors: (result.errors ?? []).map((e) => e.message),
      hints: (result.hints ?? []).map((h) => ({ code: h.definition.code, message: h.message })),
    }),
  );
  // Not process.exit(): output to a pipe is written asynchronously, and exiting at once cuts a
  // supergraph past the pipe's 64 KiB buffer.
  process.exitCode = result.errors ? 1 : 0;
}
