// tuf-js, unmodified, as a TUF client of an uptake repository:
//   node client.mjs METADATA_DIR METADATA_URL TARGET_DIR TARGET_URL TARGET_NAME
// METADATA_DIR must hold the trusted root.json. Exit 0 when the target was
// refreshed, verified and downloaded; 1 otherwise.
import { Updater } from 'tuf-js';

const [metadataDir, metadataBaseUrl, targetDir, targetBaseUrl, name] = process.argv.slice(2);
try {
  const updater = new Updater({ metadataDir, metadataBaseUrl, targetDir, targetBaseUrl });
  await updater.refresh();
  const info = await updater.getTargetInfo(name);
  if (!info) throw new Error(`no target ${name}`);
  const path = await updater.downloadTarget(info);
  console.log(`tuf-js: ${name} verified and saved as ${path}`);
} catch (e) {
  console.error(`tuf-js: ${e.name}: ${e.message}`);
  process.exit(1);
}
