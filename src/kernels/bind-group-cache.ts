// Bind groups made once and reused across steps. A step records the same dispatches with
// the same buffers and the same uniform-arena offsets as the step before it whenever its
// shape class is the same (UniformArena hands out offsets in push order), so the bind
// group of dispatch i is usually the one dispatch i had last step:
//
//   fast path   slot i remembers (pipeline, buffer, offset, size of every binding) of the
//               last step's dispatch i; equal by identity → its bind group, no allocation
//   slow path   a map keyed by the pipeline's and buffers' ids finds a group made in any
//               earlier step (a step of another shape: prefill vs decode, logprobs or not)
//   miss        createBindGroup, counted in `created` (the bench's bind groups per step)
//
// Groups name buffers, so when step buffers are reallocated (a bigger batch) the owner
// calls clear(): the old groups are dropped and rebuilt once, counted like any miss.
import { createBindGroup, type Binding } from './encoder';

interface Slot {
  pipeline: GPUComputePipeline;
  buffers: GPUBuffer[];
  offsets: number[];
  sizes: number[];
  group: GPUBindGroup;
}

/** Past this many remembered groups the map starts over (shapes churning without end). */
const MAX_GROUPS = 8192;

export class BindGroupCache {
  /** Bind groups created since construction (never reset; callers take differences). */
  created = 0;
  private slots: Slot[] = [];
  private cursor = 0;
  private readonly byKey = new Map<string, GPUBindGroup>();
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;

  /** Call before recording a step: dispatch i of this step is compared with dispatch i of the last one. */
  beginStep(): void {
    this.cursor = 0;
  }

  /** Forget every group (the buffers they name are gone or about to be). */
  clear(): void {
    this.slots = [];
    this.byKey.clear();
    this.cursor = 0;
  }

  get size(): number {
    return this.byKey.size;
  }

  get(device: GPUDevice, pipeline: GPUComputePipeline, bindings: Binding[]): GPUBindGroup {
    const i = this.cursor++;
    const slot = this.slots[i];
    if (slot && slot.pipeline === pipeline && sameBindings(slot, bindings)) return slot.group;

    const key = this.key(pipeline, bindings);
    let group = this.byKey.get(key);
    if (!group) {
      if (this.byKey.size >= MAX_GROUPS) this.clear();
      group = createBindGroup(device, pipeline, bindings);
      this.created++;
      this.byKey.set(key, group);
    }
    const buffers: GPUBuffer[] = [];
    const offsets: number[] = [];
    const sizes: number[] = [];
    for (const b of bindings) {
      buffers.push(bufferOf(b));
      offsets.push(offsetOf(b));
      sizes.push(sizeOf(b));
    }
    this.slots[i] = { pipeline, buffers, offsets, sizes, group };
    return group;
  }

  private id(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(o, id);
    }
    return id;
  }

  private key(pipeline: GPUComputePipeline, bindings: Binding[]): string {
    let key = String(this.id(pipeline));
    for (const b of bindings) key += `|${this.id(bufferOf(b))}:${offsetOf(b)}:${sizeOf(b)}`;
    return key;
  }
}

function isBuffer(b: Binding): b is GPUBuffer {
  return !('buffer' in b);
}

function bufferOf(b: Binding): GPUBuffer {
  return isBuffer(b) ? b : b.buffer;
}

function offsetOf(b: Binding): number {
  return isBuffer(b) ? 0 : (b.offset ?? 0);
}

/** -1: the whole buffer. */
function sizeOf(b: Binding): number {
  return isBuffer(b) ? -1 : (b.size ?? -1);
}

function sameBindings(slot: Slot, bindings: Binding[]): boolean {
  if (slot.buffers.length !== bindings.length) return false;
  for (let j = 0; j < bindings.length; j++) {
    const b = bindings[j];
    if (slot.buffers[j] !== bufferOf(b) || slot.offsets[j] !== offsetOf(b) || slot.sizes[j] !== sizeOf(b)) return false;
  }
  return true;
}
