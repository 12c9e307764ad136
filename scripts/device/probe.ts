// Prints the WebGPU adapter Dawn finds (scripts/device/run.sh runs it first, so that a
// machine without a usable driver stops before the long steps) and its limits that matter.
import { isSoftwareAdapter } from '../../src/gpu/device';
import { createNodeGPU } from '../../src/gpu/node-gpu';

const gpu = await createNodeGPU();
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) {
  console.log('probe: no adapter');
  process.exit(1);
}
const info = adapter.info;
const limits = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup'] as const;
console.log(`probe: ${info.vendor} / ${info.architecture} / ${info.device} / ${info.description}`);
console.log(`probe: features ${[...adapter.features].sort().join(' ')}`);
console.log(`probe: ${limits.map((k) => `${k} ${adapter.limits[k]}`).join(', ')}`);
console.log(`probe: software ${isSoftwareAdapter(adapter)}`); // the check createGpuContext makes
process.exit(0);
