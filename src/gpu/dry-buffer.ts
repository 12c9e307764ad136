// A GPUBuffer that is only a label and a size: what the dry runs of the forward pass
// (step-plan.ts) bind, and what a weight plan (TensorLoader's dry mode) holds in place of
// uploaded parts. Kernels check sizes and aliasing on it; a dry run never binds it.
export const dryBuffer = (label: string, size: number): GPUBuffer =>
  ({ label, size: Math.max(4, Math.ceil(size / 4) * 4), destroy() {} }) as unknown as GPUBuffer;
