// Setup for the gpu tier: prefer the machine's own GPU, else the SwiftShader ICD.
import { findSoftwareIcd, prepareNodeGpuEnv } from '../../src/gpu/node-gpu';

prepareNodeGpuEnv();
if (!process.env.VK_ICD_FILENAMES && process.env.TABLLM_TEST_REAL_GPU !== '1') {
  const icd = findSoftwareIcd();
  if (icd) process.env.VK_ICD_FILENAMES = icd;
}
