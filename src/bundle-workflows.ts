import { writeFileSync } from 'node:fs';
import { bundleWorkflows, prebuiltBundlePath } from './worker';

/**
 * Part of `npm run build`: the workflow bundles (with and without the tracing interceptors)
 * are made once here, as Temporal recommends for production, instead of in every worker start.
 */
async function main(): Promise<void> {
  for (const tracing of [false, true]) {
    const { code } = await bundleWorkflows({ tracing });
    writeFileSync(prebuiltBundlePath(tracing), code);
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
