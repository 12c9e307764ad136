import { expect, it } from 'vitest';
import { SWIFTSHADER_ICDS } from '../../src/gpu/node-gpu';

it('knows where Debian Chromium keeps SwiftShader', () => {
  expect(SWIFTSHADER_ICDS).toContain('/usr/lib/chromium/vk_swiftshader_icd.json');
});
