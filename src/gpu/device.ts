// Device creation: one adapter and one device with the adapter's real limits (the
// WebGPU defaults cap storage bindings at 128 MiB, too small for an LM head), the
// optional features we can use, and device loss surfaced as a coded error.
// Browsers pass nothing (navigator.gpu); Node passes `await createNodeGPU()`.
import { GpuContext } from './context';

export type GpuErrorCode =
  | 'no_webgpu'
  | 'no_adapter'
  | 'device_request_failed'
  | 'device_lost'
  | 'unsupported_feature'
  /** Node: the optional `webgpu` package (Dawn) is not installed. */
  | 'webgpu_package_missing';

export class GpuError extends Error {
  override readonly name = 'GpuError';
  constructor(
    readonly code: GpuErrorCode,
    message: string,
    /** For `device_lost`: WebGPU's reason ('destroyed' when we destroyed it ourselves, else 'unknown'). */
    readonly reason?: string,
  ) {
    super(message);
  }
}

export type Precision = 'f32' | 'f16';

export interface CreateGpuContextOptions {
  /** A `GPU` (navigator.gpu or the Node `webgpu` package's). Default: `navigator.gpu`. */
  gpu?: GPU;
  /** 'auto' (default): f16 when the adapter has `shader-f16`, else f32. 'f16' without the feature throws `unsupported_feature`. */
  precision?: Precision | 'auto';
  powerPreference?: GPUPowerPreference;
  /** Called once when the device is lost for any reason other than our own `destroy()`. */
  onLost?: (err: GpuError) => void;
}

/** The limits we raise from the WebGPU defaults to whatever the adapter supports. */
export const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'maxUniformBufferBindingSize',
] as const;

/** A GpuContext that also knows its adapter, chosen precision and loss state. */
export class DeviceContext extends GpuContext {
  /** Resolves when the device is lost (also after our own destroy(), with reason 'destroyed'). */
  readonly lost: Promise<GpuError>;
  private destroyed = false;

  constructor(
    device: GPUDevice,
    features: { f16: boolean; subgroups: boolean; timestamps: boolean },
    readonly precision: Precision,
    readonly adapterName: string,
    onLost?: (err: GpuError) => void,
    software = false,
  ) {
    super(device, features, software);
    this.lost = device.lost.then((info) => {
      const err = new GpuError('device_lost', `WebGPU device lost (${info.reason}): ${info.message}`, info.reason);
      if (onLost && !this.destroyed && info.reason !== 'destroyed') onLost(err);
      return err;
    });
  }

  override destroy(): void {
    this.destroyed = true;
    super.destroy();
    this.device.destroy();
  }
}

/** SwiftShader, or an adapter the browser flags as a CPU fallback. */
export function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined;
  if (info?.isFallbackAdapter || (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter) return true;
  return /swiftshader|llvmpipe|lavapipe|software/i.test(describeAdapter(adapter));
}

function describeAdapter(adapter: GPUAdapter): string {
  const info = adapter.info;
  const parts = info ? [info.vendor, info.architecture, info.device, info.description] : [];
  return parts.filter((s) => s).join(' ') || 'unknown adapter';
}

export async function createGpuContext(options: CreateGpuContextOptions = {}): Promise<DeviceContext> {
  const gpu = options.gpu ?? (typeof navigator !== 'undefined' ? navigator.gpu : undefined);
  if (!gpu) throw new GpuError('no_webgpu', 'WebGPU is not available here (no navigator.gpu and no GPU provider given)');
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) throw new GpuError('no_adapter', 'WebGPU returned no adapter (no usable GPU or driver)');

  const hasF16 = adapter.features.has('shader-f16');
  const hasSubgroups = adapter.features.has('subgroups');
  const wanted = options.precision ?? 'auto';
  if (wanted === 'f16' && !hasF16) {
    throw new GpuError('unsupported_feature', `precision 'f16' needs the 'shader-f16' feature, which ${describeAdapter(adapter)} lacks`);
  }
  const precision: Precision = wanted === 'auto' ? (hasF16 ? 'f16' : 'f32') : wanted;

  const requiredFeatures: GPUFeatureName[] = [];
  if (hasF16) requiredFeatures.push('shader-f16');
  if (hasSubgroups) requiredFeatures.push('subgroups' as GPUFeatureName);
  const hasTimestamps = adapter.features.has('timestamp-query');
  if (hasTimestamps) requiredFeatures.push('timestamp-query');
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number | undefined>)[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }

  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ label: 'tabllm', requiredFeatures, requiredLimits });
  } catch (e) {
    throw new GpuError('device_request_failed', `requestDevice failed: ${(e as Error)?.message ?? String(e)}`);
  }
  return new DeviceContext(device, { f16: hasF16, subgroups: hasSubgroups, timestamps: hasTimestamps }, precision, describeAdapter(adapter), options.onLost, isSoftwareAdapter(adapter));
}
