// Paths of the shared (read-only) fixtures, resolved from this file: never copied into the project.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared/fixtures');
export const STORIES_GGUF = resolve(FIXTURES, 'stories260K/stories260K.gguf');
export const vocabGGUF = (name: string): string => resolve(FIXTURES, `llama-cpp-vocab/ggml-vocab-${name}.gguf`);
